using ControlPlane.ServiceDefaults.Http;

namespace ControlPlane.Orchestrator.Itsm;

public static class ItsmExtensions
{
    /// <summary>
    /// The ServiceNow change-request integration (<see cref="ServiceNowOptions"/>). Its consumer and services are
    /// always registered so the bus topology does not depend on configuration; unconfigured, they do nothing.
    /// </summary>
    public static void AddServiceNowIntegration(this WebApplicationBuilder builder)
    {
        builder.Services.Configure<ServiceNowOptions>(builder.Configuration.GetSection(ServiceNowOptions.Section));
        builder.Services.AddHttpClient<ServiceNowClient>();
        builder.Services.AddServiceClient(ApproverDirectory.HttpClientName);
        builder.Services.AddSingleton<ApproverDirectory>();
        builder.Services.AddSingleton<ChangeRequestSync>();
        builder.Services.AddSingleton<ServiceNowApprovals>();
        builder.Services.AddSingleton<ChangeRequestGate>();
        builder.Services.AddHostedService<ServiceNowPoller>();
    }
}

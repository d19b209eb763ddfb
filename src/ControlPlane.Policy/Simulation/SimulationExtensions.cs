using ControlPlane.Policy.Data;
using ControlPlane.ServiceDefaults.Http;
using Microsoft.Extensions.Options;

namespace ControlPlane.Policy.Simulation;

internal static class SimulationExtensions
{
    /// <summary>Options (section "Policy"), the simulation store, and policy's own tokens for reading evidence.</summary>
    public static void AddPolicySimulation(this WebApplicationBuilder builder)
    {
        builder.Services.Configure<PolicyOptions>(builder.Configuration.GetSection(PolicyOptions.Section));
        builder.Services.AddSingleton<SimulationStore>();
        builder.Services.AddHttpClient(EvidenceHistory.HttpClientName);
        builder.Services.AddSingleton(sp => new ServiceTokens(sp.GetRequiredService<IHttpClientFactory>(), sp.GetRequiredService<IConfiguration>(),
            sp.GetRequiredService<IOptions<PolicyOptions>>().Value.ServiceClient, EvidenceHistory.HttpClientName));
        builder.Services.AddSingleton<EvidenceHistory>();
    }
}

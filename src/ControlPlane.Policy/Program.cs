using ControlPlane.Policy;
using ControlPlane.Policy.Apis;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapPolicyApi();
app.MapSimulationApi();
app.MapAgentsApi();

app.Run();

namespace ControlPlane.Policy
{
    /// <summary>Names this service's assembly for WebApplicationFactory; distinct per service so one test process can host several.</summary>
    public sealed class PolicyService;
}

using ControlPlane.Orchestrator;
using ControlPlane.Orchestrator.AgentNotifications;
using ControlPlane.Orchestrator.Apis;
using ControlPlane.Orchestrator.BusContract;
using ControlPlane.Orchestrator.Mcp;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();
builder.AddMcpServer();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapProposalsApi();
app.MapScheduleApi();
app.MapBusContract();
app.MapMcpServer();
app.MapAgentWebhooksApi();

app.Run();

namespace ControlPlane.Orchestrator
{
    /// <summary>Names this service's assembly for WebApplicationFactory; distinct per service so one test process can host several.</summary>
    public sealed class OrchestratorService;
}

using ControlPlane.SystemGraph;
using ControlPlane.SystemGraph.Apis;
using ControlPlane.SystemGraph.Deployments;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapGraphApi();
app.MapCatalogImportApi();
app.MapDeploymentsApi();

app.Run();

namespace ControlPlane.SystemGraph
{
    /// <summary>Names this service's assembly for WebApplicationFactory; distinct per service so one test process can host several.</summary>
    public sealed class SystemGraphService;
}

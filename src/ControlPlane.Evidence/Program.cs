using ControlPlane.Evidence;
using ControlPlane.Evidence.Apis;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapEvidenceApi();
app.MapMetricsApi();
app.MapTransparencyApi();
app.MapAttestationApi();

app.Run();

namespace ControlPlane.Evidence
{
    /// <summary>Names this service's assembly for WebApplicationFactory; distinct per service so one test process can host several.</summary>
    public sealed class EvidenceService;
}

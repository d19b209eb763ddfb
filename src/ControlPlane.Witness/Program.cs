using ControlPlane.Witness.Witnessing;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddWitness();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapWitnessApi();

app.Run();

namespace ControlPlane.Witness
{
    /// <summary>Names this service's assembly for WebApplicationFactory; distinct per service so one test process can host several.</summary>
    public sealed class WitnessService;
}

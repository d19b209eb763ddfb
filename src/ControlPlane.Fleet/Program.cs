using ControlPlane.Fleet;
using ControlPlane.Fleet.Apis;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapFleetsApi();
app.MapRunnersApi();
app.MapWorkApi();
app.MapCredentialsApi();

app.Run();

namespace ControlPlane.Fleet
{
    /// <summary>Names this service's assembly for WebApplicationFactory; distinct per service so one test process can host several.</summary>
    public sealed class FleetService;
}

using ControlPlane.Identity;
using ControlPlane.Identity.Apis;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();
var devLogin = DevLoginApi.IsEnabled(builder);

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapDiscoveryApi();
app.MapTokenApi();
app.MapAuthorizeApi(devLogin);
app.MapPrincipalsApi();
app.MapAgentsApi();
app.MapKeysApi();
if (devLogin)
{
    app.MapDevLoginApi();
}

app.Run();

namespace ControlPlane.Identity
{
    /// <summary>Names this service's assembly for WebApplicationFactory; distinct per service so one test process can host several.</summary>
    public sealed class IdentityService;
}

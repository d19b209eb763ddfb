using ControlPlane.Console.Components;
using ControlPlane.Console.Plane;
using ControlPlane.Console.SignIn;
using Microsoft.FluentUI.AspNetCore.Components;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddConsoleSignIn();
builder.AddPlaneClients();
builder.Services.AddRazorComponents().AddInteractiveServerComponents();
builder.Services.AddCascadingAuthenticationState();
builder.Services.AddFluentUIComponents();

var app = builder.Build();

app.MapDefaultEndpoints();
app.UseAntiforgery();
app.MapConsoleAssets();
app.MapAccountEndpoints();
app.MapBundleDownload();
app.MapRazorComponents<App>().AddInteractiveServerRenderMode().RequireAuthorization();

app.Run();

namespace ControlPlane.Console
{
    /// <summary>Names this assembly for WebApplicationFactory; distinct per service so one test process can host several.</summary>
    public sealed class ConsoleApp;
}

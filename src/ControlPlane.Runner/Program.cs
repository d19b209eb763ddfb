var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();

var app = builder.Build();

app.MapDefaultEndpoints();

app.Run();

namespace ControlPlane.Runner
{
    /// <summary>Names this assembly for WebApplicationFactory.</summary>
    public sealed class RunnerService;
}

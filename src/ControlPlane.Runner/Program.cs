using ControlPlane.Runner;

var builder = WebApplication.CreateBuilder(args);

builder.AddRunnerConfigFile(args);
builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.MapDefaultEndpoints();

app.Run();

namespace ControlPlane.Runner
{
    /// <summary>Names this assembly for WebApplicationFactory.</summary>
    public sealed class RunnerService;
}

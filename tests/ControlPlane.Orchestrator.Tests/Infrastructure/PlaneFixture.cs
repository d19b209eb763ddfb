using ControlPlane.Testing;

namespace ControlPlane.Orchestrator.Tests.Infrastructure;

/// <summary>An orchestrator plane shared by the tests of one class; subclasses choose the configuration.</summary>
public abstract class PlaneFixture(IdentityFixture identity, string purpose) : IAsyncLifetime
{
    public OrchestratorPlane Plane { get; private set; } = null!;

    protected virtual void Configure(PlaneSettings settings)
    {
    }

    /// <summary>Freezes every environment, so authorized proposals rest in "scheduled" (tests of the first half).</summary>
    protected static void FreezeEverything(PlaneSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        string[] environments = ["dev", "staging", "production"];
        for (var i = 0; i < environments.Length; i++)
        {
            settings.Set($"Orchestrator:Freezes:{i}:Environment", environments[i])
                .Set($"Orchestrator:Freezes:{i}:From", "2000-01-01T00:00:00Z")
                .Set($"Orchestrator:Freezes:{i}:To", "2100-01-01T00:00:00Z")
                .Set($"Orchestrator:Freezes:{i}:Reason", "tests of approval only");
        }
    }

    /// <summary>Extra services for the orchestrator host (a log capture, …).</summary>
    protected virtual void ConfigureServices(Microsoft.Extensions.DependencyInjection.IServiceCollection services)
    {
    }

    public async ValueTask InitializeAsync() => Plane = await OrchestratorPlane.StartAsync(identity, purpose, Configure, ConfigureServices);

    public async ValueTask DisposeAsync()
    {
        if (Plane is not null)
        {
            await Plane.DisposeAsync();
        }

        GC.SuppressFinalize(this);
    }
}

using ControlPlane.Testing;

namespace ControlPlane.Orchestrator.Tests.Infrastructure;

/// <summary>An orchestrator plane shared by the tests of one class; subclasses choose the configuration.</summary>
public abstract class PlaneFixture(IdentityFixture identity, string purpose) : IAsyncLifetime
{
    public OrchestratorPlane Plane { get; private set; } = null!;

    protected virtual void Configure(PlaneSettings settings)
    {
    }

    public async ValueTask InitializeAsync() => Plane = await OrchestratorPlane.StartAsync(identity, purpose, Configure);

    public async ValueTask DisposeAsync()
    {
        if (Plane is not null)
        {
            await Plane.DisposeAsync();
        }

        GC.SuppressFinalize(this);
    }
}

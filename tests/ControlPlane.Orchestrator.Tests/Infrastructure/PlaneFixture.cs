using ControlPlane.Contracts;
using ControlPlane.Orchestrator.Scheduling;
using ControlPlane.Testing;

namespace ControlPlane.Orchestrator.Tests.Infrastructure;

/// <summary>An orchestrator plane shared by the tests of one class; subclasses choose the configuration.</summary>
public abstract class PlaneFixture(IdentityFixture identity, string purpose) : IAsyncLifetime
{
    public OrchestratorPlane Plane { get; private set; } = null!;

    protected virtual void Configure(PlaneSettings settings)
    {
    }

    /// <summary>Change windows created through the API once the host is up, before any test runs (as Olga, the operator).</summary>
    protected virtual IReadOnlyList<ChangeWindowRequest> Windows => [];

    /// <summary>A deny window open at every minute for an hour, so always open: authorized proposals there rest in "scheduled".</summary>
    public static ChangeWindowRequest AlwaysDeny(string name, params string[] environments) =>
        new(name, ChangeWindowKinds.Deny, "* * * * *", "1h", "UTC", new ChangeWindowScopeRequest([.. environments], null, null), false, null);

    /// <summary>Freezes every environment, so authorized proposals rest in "scheduled" (tests of the first half).</summary>
    protected static IReadOnlyList<ChangeWindowRequest> FreezeEverything => [AlwaysDeny("tests of approval only", "*")];

    /// <summary>Extra services for the orchestrator host (a log capture, …).</summary>
    protected virtual void ConfigureServices(Microsoft.Extensions.DependencyInjection.IServiceCollection services)
    {
    }

    public async ValueTask InitializeAsync()
    {
        Plane = await OrchestratorPlane.StartAsync(identity, purpose, Configure, ConfigureServices);
        foreach (var window in Windows)
        {
            await Plane.CreateWindowAsync(window);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Plane is not null)
        {
            await Plane.DisposeAsync();
        }

        GC.SuppressFinalize(this);
    }
}

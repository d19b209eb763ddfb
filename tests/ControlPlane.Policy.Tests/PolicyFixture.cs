using ControlPlane.Contracts;
using ControlPlane.Identity.Seeding;
using ControlPlane.Testing;

namespace ControlPlane.Policy.Tests;

/// <summary>
/// The real identity service and policy (fresh policy-db, so the default bundle activates at start) on their own
/// vhost, plus a test bus that publishes like system-graph, identity and fleet and records what policy publishes.
/// </summary>
public sealed class PolicyFixture : IAsyncLifetime
{
    public const string PolicyAdmin = "paula@example.com";
    public const string Viewer = "vera@example.com";
    public const string Audience = "policy";

    private static readonly IdentitySeed Principals = new(
        [new SeedHuman(PolicyAdmin, "Paula Policy-Admin", PolicyAdmin, ["policy-admin"]), new SeedHuman(Viewer, "Vera Viewer", Viewer, ["viewer"])],
        []);

    public TestVirtualHost Vhost { get; private set; } = null!;
    public TestBus Bus { get; private set; } = null!;
    public TestIdentity Identity { get; private set; } = null!;
    public TestDatabase Database { get; private set; } = null!;
    public ServiceHost<PolicyService> Host { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Vhost = await TestVirtualHost.CreateAsync("policy");
        Identity = await TestIdentity.StartAsync(Vhost, Principals);
        Database = await TestDatabase.CreateAsync("policy");
        Host = new ServiceHost<PolicyService>(new PlaneSettings(Vhost, PlaneSettings.NewRedisPrefix())
            .Database("policy-db", Database.ConnectionString)
            .Service("identity", Identity.Address)
            .Build());
        await Host.WaitUntilReadyAsync();
        Bus = await TestBus.StartAsync(Vhost, o => o.Observe<PolicyDecided>().Observe<PolicyBundleActivated>());
    }

    public async Task<HttpClient> ClientAsync(string principal) =>
        Host.CreateHttpClient(await Identity.HumanTokenAsync(principal, Audience));

    public async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync();
        await Bus.DisposeAsync();
        await Identity.DisposeAsync();
        await Database.DisposeAsync();
        await Vhost.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class PolicyCollection : ICollectionFixture<PolicyFixture>
{
    public const string Name = "policy on real servers";
}

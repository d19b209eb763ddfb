using ControlPlane.Contracts;
using ControlPlane.Identity.Seeding;
using ControlPlane.Testing;

namespace ControlPlane.Policy.Tests;

/// <summary>policy on a fresh policy-db (so the default bundle activates at start), the real identity service, and a test bus recording PolicyDecided and PolicyBundleActivated.</summary>
public sealed class PolicyFixture : IAsyncLifetime
{
    public const string PolicyAdmin = "paula@example.com";
    public const string Viewer = "vera@example.com";

    private static readonly IdentitySeed Principals = new(
        [new SeedHuman(PolicyAdmin, "Paula Policy-Admin", PolicyAdmin, ["policy-admin"]), new SeedHuman(Viewer, "Vera Viewer", Viewer, ["viewer"])],
        []);

    public ServiceUnderTest<PolicyService> Plane { get; private set; } = null!;

    public ServiceHost<PolicyService> Host => Plane.Host;

    public TestBus Bus => Plane.Bus;

    public async ValueTask InitializeAsync() =>
        Plane = await ServiceUnderTest<PolicyService>.StartAsync("policy", "policy-db", Principals,
            o => o.Observe<PolicyDecided>().Observe<PolicyBundleActivated>());

    public Task<HttpClient> ClientAsync(string principal) => Plane.ClientAsync(principal);

    public async ValueTask DisposeAsync() => await Plane.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class PolicyCollection : ICollectionFixture<PolicyFixture>
{
    public const string Name = "policy on real servers";
}

using System.Net.Http.Json;
using ControlPlane.Contracts;
using ControlPlane.Identity.Seeding;
using ControlPlane.Testing;

namespace ControlPlane.Fleet.Tests.Support;

/// <summary>
/// The part of the plane fleet needs, all real: a vhost, identity seeded with runner principals (binding "runner",
/// their fleet in cp_fleet), fleet on its own database, and the test's bus recording fleet's events.
/// Short timers: heartbeat timeout 3 s, poll 200 ms, package expiry margin 1 s. Started ready (see InitializeAsync).
/// </summary>
public class FleetPlane : IAsyncLifetime
{
    public const string Admin = "fleet-admin@example.com";
    public const string Viewer = "viewer@example.com";
    public const string Proposer = "proposer-agent";

    public TestVirtualHost VirtualHost { get; private set; } = null!;

    public BusRecorder Bus { get; private set; } = null!;

    public TestIdentity Identity { get; private set; } = null!;

    public TestDatabase Database { get; private set; } = null!;

    public ServiceHost<FleetService> Fleet { get; private set; } = null!;

    /// <summary>Runner principals by fleet; subclasses add their own.</summary>
    protected virtual IEnumerable<(string Id, string Fleet)> RunnerPrincipals()
    {
        for (var i = 1; i <= 9; i++)
        {
            yield return ($"runner-t{i}", "testing");
        }

        for (var i = 1; i <= 3; i++)
        {
            yield return ($"runner-o{i}", "observe");
        }

        yield return ("runner-r1", "remediation");
        yield return ("runner-nowhere", "nowhere");
    }

    /// <summary>
    /// Target systems that introspect package credentials: agent "target-{node}" bound target-system@node:{node}
    /// (tokens for fleet: <see cref="TargetClientAsync"/>).
    /// </summary>
    public static readonly IReadOnlyList<string> TargetNodes = ["billing", "ledger"];

    public static string TargetSystem(string node) => "target-" + node;

    /// <summary>Fleet:AckTimeout of this plane: long by default, so runners that never acknowledge keep their packages.</summary>
    public virtual TimeSpan AckTimeout => TimeSpan.FromMinutes(5);

    public virtual async ValueTask InitializeAsync()
    {
        VirtualHost = await TestVirtualHost.CreateAsync("fleet");
        Bus = await BusRecorder.StartAsync(VirtualHost);
        var agents = RunnerPrincipals()
            .Select(r => new SeedAgent(r.Id, $"Runner {r.Id}", Admin, r.Fleet, null, null, ["runner"], null))
            .Append(new SeedAgent(Proposer, "An agent that is no runner", Admin, "testing", null, null, ["proposer"], null))
            .Concat(TargetNodes.Select(n => new SeedAgent(TargetSystem(n), $"Target system {n}", Admin, "testing", null, null, [$"target-system@node:{n}"], null)))
            .ToList();
        Identity = await TestIdentity.StartAsync(VirtualHost, new IdentitySeed(
            [new SeedHuman(Admin, "Fran Fleet-Admin", null, ["fleet-admin"]), new SeedHuman(Viewer, "Vera Viewer", null, ["viewer"])],
            agents));
        Database = await TestDatabase.CreateAsync("fleet");
        Fleet = new ServiceHost<FleetService>(new PlaneSettings(VirtualHost, PlaneSettings.NewRedisPrefix())
            .Database("fleet-db", Database.ConnectionString)
            .Service("identity", Identity.Address)
            .Set("Fleet:HeartbeatTimeout", "00:00:03")
            .Set("Fleet:PollInterval", "00:00:00.200")
            .Set("Fleet:PackageExpiryMargin", "00:00:01")
            .Set("Fleet:AckTimeout", AckTimeout.ToString())
            .Build());
        // Ready means /health 200, i.e. the bus started with its receive endpoints bound. Kestrel listening is not
        // enough: the bus starts in the background, and a WorkRequested published before fleet's queue is bound to
        // its exchange is dropped by RabbitMQ (unroutable), so a test that publishes first would wait for nothing.
        await Fleet.WaitUntilReadyAsync();
    }

    public async Task<HttpClient> ClientForAsync(string principal) => principal.StartsWith("runner-", StringComparison.Ordinal) || principal == Proposer
        ? Fleet.CreateHttpClient(await Identity.AgentTokenAsync(principal, "fleet"))
        : Fleet.CreateHttpClient(await Identity.HumanTokenAsync(principal, "fleet"));

    /// <summary>The target system of a node, calling fleet under its own identity.</summary>
    public async Task<HttpClient> TargetClientAsync(string node) => Fleet.CreateHttpClient(await Identity.AgentTokenAsync(TargetSystem(node), "fleet"));

    /// <summary>Fleet's published keys, as a runner fetches them (anonymously).</summary>
    public async Task<FleetKeySet> FleetKeysAsync()
    {
        using var anonymous = Fleet.CreateHttpClient();
        return (await anonymous.GetFromJsonAsync<FleetKeySet>("fleet/keys", ContractJson.Options))!;
    }

    public virtual async ValueTask DisposeAsync()
    {
        await Fleet.DisposeAsync();
        await Database.DisposeAsync();
        await Identity.DisposeAsync();
        await Bus.DisposeAsync();
        await VirtualHost.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}

using System.Net.Http.Json;
using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Evidence;
using ControlPlane.Identity.Seeding;
using ControlPlane.Testing;

namespace ControlPlane.Policy.Tests.Simulation;

/// <summary>
/// policy (with Policy:Activation:RequireSimulation) and the real evidence service on one vhost with the real identity
/// service: policy decides the assessments the test publishes, evidence records them, and policy reads them back with
/// its own workload identity (the policy-simulator agent, bound to viewer) to simulate a bundle.
/// </summary>
public sealed class SimulationFixture : IAsyncLifetime
{
    public const string PolicyAdmin = "paula@example.com";
    public const string Viewer = "vera@example.com";
    public const string SimulatorAgent = "policy-simulator";

    private static readonly IdentitySeed Principals = new(
        [new SeedHuman(PolicyAdmin, "Paula Policy-Admin", PolicyAdmin, ["policy-admin"]), new SeedHuman(Viewer, "Vera Viewer", Viewer, ["viewer"])],
        [new SeedAgent(SimulatorAgent, "Policy service", PolicyAdmin, "observe", [], [], ["viewer"], null)]);

    private TestDatabase _policyDb = null!;
    private TestDatabase _evidenceDb = null!;

    public TestVirtualHost Vhost { get; private set; } = null!;

    public TestIdentity Identity { get; private set; } = null!;

    public ServiceHost<EvidenceService> Evidence { get; private set; } = null!;

    public ServiceHost<PolicyService> Policy { get; private set; } = null!;

    public TestBus Bus { get; private set; } = null!;

    /// <summary>The assessments published at start, decided by the default bundle and recorded before any test runs.</summary>
    public IReadOnlyList<ImpactAssessed> Recorded { get; private set; } = [];

    public async ValueTask InitializeAsync()
    {
        Vhost = await TestVirtualHost.CreateAsync("policy-sim");
        Identity = await TestIdentity.StartAsync(Vhost, Principals);
        _evidenceDb = await TestDatabase.CreateAsync("evidence");
        _policyDb = await TestDatabase.CreateAsync("policy");
        Evidence = new ServiceHost<EvidenceService>(new PlaneSettings(Vhost, PlaneSettings.NewRedisPrefix())
            .Database("evidence-db", _evidenceDb.ConnectionString)
            .Service("identity", Identity.Address)
            .Build());
        await Evidence.WaitUntilReadyAsync();
        Policy = new ServiceHost<PolicyService>(new PlaneSettings(Vhost, PlaneSettings.NewRedisPrefix())
            .Database("policy-db", _policyDb.ConnectionString)
            .Service("identity", Identity.Address)
            .Service("evidence", Evidence.BaseAddress)
            .Set("Policy:ServiceClient:ClientId", SimulatorAgent)
            .Set("Policy:ServiceClient:ClientSecret", TestIdentity.AgentSecret)
            .Set("Policy:Activation:RequireSimulation", "true")
            .Build());
        await Policy.WaitUntilReadyAsync();
        await Eventually.UntilAsync(async () => (await Vhost.QueueNamesAsync()).Contains("evidence"), TimeSpan.FromSeconds(30), "the evidence queue");
        Bus = await TestBus.StartAsync(Vhost);

        Recorded = [Assessed("restart", "dev", Leaf(3, 0)), Assessed("deploy", "staging", Leaf(3, 2)), Assessed("deploy", "production", Leaf(0, 12))];
        foreach (var assessed in Recorded)
        {
            await Bus.PublishAsync(assessed.Proposal);
            await Bus.PublishAsync(assessed);
        }

        using var viewer = await EvidenceClientAsync(Viewer);
        await Eventually.UntilAsync(async () =>
        {
            var page = await viewer.GetFromJsonAsync<JsonElement>("evidence/records?kind=PolicyDecided&page=1&pageSize=10");
            return page.GetProperty("total").GetInt64();
        }, total => total >= Recorded.Count, TimeSpan.FromSeconds(60), "evidence to record policy's decisions");
    }

    public async Task<HttpClient> ClientAsync(string principal) => Policy.CreateHttpClient(await Identity.HumanTokenAsync(principal, "policy"));

    public async Task<HttpClient> EvidenceClientAsync(string principal) => Evidence.CreateHttpClient(await Identity.HumanTokenAsync(principal, "evidence"));

    public async ValueTask DisposeAsync()
    {
        await Policy.DisposeAsync();
        await Evidence.DisposeAsync();
        await Bus.DisposeAsync();
        await Identity.DisposeAsync();
        await _policyDb.DisposeAsync();
        await _evidenceDb.DisposeAsync();
        await Vhost.DisposeAsync();
    }

    private static ImpactAssessed Assessed(string action, string environment, ImpactReport impact)
    {
        var proposal = new ProposalSubmitted(Guid.NewGuid(), "sha256:" + Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()), "remediation-agent",
            "sam@example.com", "remediation", new ProposedAction(action, $"{action} billing", new Dictionary<string, string>()), ["billing"], environment,
            new ChangeReference("sha256:beef", "git@example.com:billing.git#v2", "redeploy v1"), DateTimeOffset.UtcNow);
        return new ImpactAssessed(proposal.ProposalId, proposal, impact);
    }

    /// <summary>An impact touching one node of the given tier with that many (unnamed, tier-3) dependents.</summary>
    private static ImpactReport Leaf(int tier, int dependents) => new(
        7, ["billing"],
        [.. Enumerable.Range(0, dependents).Select(i => new ImpactedNode($"dependent-{i}", 1, ["billing", $"dependent-{i}"], 3, "team", false, ["public"], false))],
        tier, ["public"], false, false, ["team"], [], [], DateTimeOffset.UtcNow);
}

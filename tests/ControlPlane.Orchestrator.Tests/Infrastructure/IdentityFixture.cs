using ControlPlane.Identity.Seeding;
using ControlPlane.Testing;

[assembly: AssemblyFixture(typeof(ControlPlane.Orchestrator.Tests.Infrastructure.IdentityFixture))]

namespace ControlPlane.Orchestrator.Tests.Infrastructure;

/// <summary>
/// One real identity service for the whole assembly (its own database and vhost), seeded with the people and
/// agents the orchestrator tests act as. Tokens are cached per principal and audience for their lifetime.
/// </summary>
public sealed class IdentityFixture : IAsyncLifetime
{
    public const string Audience = "orchestrator";

    // Humans
    public const string Alice = "alice@example.com";       // production approver
    public const string Bob = "bob@example.com";           // production approver
    public const string Stella = "stella@example.com";     // staging approver
    public const string Vera = "vera@example.com";         // viewer
    public const string Sam = "sam@example.com";           // production approver and sponsor of the remediation agent
    public const string Olga = "olga@example.com";         // operator

    // Agents
    public const string RemediationAgent = "remediation-agent";
    public const string TestingAgent = "testing-agent";
    public const string WatcherAgent = "watcher-agent";    // proposer + viewer
    public const string IdleAgent = "idle-agent";          // no bindings at all
    public const string ItsmBridge = "itsm-bridge";        // auditor: the ServiceNow integration reads humans with it

    private static readonly IdentitySeed Seed = new(
        [
            new SeedHuman(Alice, "Alice Approver", Alice, ["approver@environment:production"]),
            new SeedHuman(Bob, "Bob Approver", Bob, ["approver@environment:production"]),
            new SeedHuman(Stella, "Stella Staging", Stella, ["approver@environment:staging"]),
            new SeedHuman(Vera, "Vera Viewer", Vera, ["viewer"]),
            new SeedHuman(Sam, "Sam Sponsor", Sam, ["approver@environment:production"]),
            new SeedHuman(Olga, "Olga Operator", Olga, ["operator"]),
        ],
        [
            new SeedAgent(RemediationAgent, "Remediation agent", Sam, "remediation", ["dev", "staging", "production"], null, ["proposer"], null),
            new SeedAgent(TestingAgent, "Testing agent", Stella, "testing", ["dev", "staging"], null, ["proposer"], null),
            new SeedAgent(WatcherAgent, "Watcher agent", Sam, "observe", ["dev"], null, ["proposer", "viewer"], null),
            new SeedAgent(IdleAgent, "Idle agent", Sam, "observe", ["dev"], null, [], null),
            new SeedAgent(ItsmBridge, "ServiceNow integration", Olga, "observe", ["dev"], null, ["auditor"], null),
        ]);

    private readonly Dictionary<string, (string Token, DateTimeOffset Until)> _tokens = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _lock = new(1, 1);
    private TestVirtualHost _vhost = null!;

    public TestIdentity Identity { get; private set; } = null!;

    public Uri Address => Identity.Address;

    public async ValueTask InitializeAsync()
    {
        _vhost = await TestVirtualHost.CreateAsync("orch-identity");
        Identity = await TestIdentity.StartAsync(_vhost, Seed);
    }

    public Task<string> AgentTokenAsync(string agent) => CachedAsync("agent:" + agent, () => Identity.AgentTokenAsync(agent, Audience));

    public Task<string> HumanTokenAsync(string human) => CachedAsync("human:" + human, () => Identity.HumanTokenAsync(human, Audience));

    private async Task<string> CachedAsync(string key, Func<Task<string>> issue)
    {
        await _lock.WaitAsync();
        try
        {
            if (_tokens.TryGetValue(key, out var cached) && cached.Until > DateTimeOffset.UtcNow)
            {
                return cached.Token;
            }

            var token = await issue();
            _tokens[key] = (token, DateTimeOffset.UtcNow.AddMinutes(5));
            return token;
        }
        finally
        {
            _lock.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Identity.DisposeAsync();
        await _vhost.DisposeAsync();
        _lock.Dispose();
    }
}

using ControlPlane.Contracts;
using ControlPlane.Orchestrator.Tests.Infrastructure;
using ControlPlane.Policy;
using ControlPlane.Testing;

namespace ControlPlane.Orchestrator.Tests.Mcp;

/// <summary>
/// An orchestrator whose MCP autonomy tool reads a real policy service with orchestrator's own workload identity
/// (played by the watcher agent, which holds viewer). Policy learns the remediation agent from a PrincipalChanged the
/// test publishes as identity would.
/// </summary>
public sealed class McpWithPolicy(IdentityFixture identity) : IAsyncLifetime
{
    public const string ServiceClient = IdentityFixture.WatcherAgent;

    private TestVirtualHost _policyVhost = null!;
    private TestDatabase _policyDb = null!;
    private ServiceHost<PolicyService> _policy = null!;

    public McpPlane Mcp { get; private set; } = null!;

    public ControlPlane.Testing.TestBus PolicyBus { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        _policyVhost = await TestVirtualHost.CreateAsync("orch-mcp-policy");
        _policyDb = await TestDatabase.CreateAsync("policy");
        _policy = new ServiceHost<PolicyService>(new PlaneSettings(_policyVhost, PlaneSettings.NewRedisPrefix())
            .Database("policy-db", _policyDb.ConnectionString)
            .Service("identity", identity.Address)
            .Build());
        using (var http = _policy.CreateHttpClient())
        {
            await Eventually.UntilAsync(async () => (await http.GetAsync("health")).IsSuccessStatusCode, TimeSpan.FromSeconds(60), "policy healthy");
        }

        PolicyBus = await ControlPlane.Testing.TestBus.StartAsync(_policyVhost);
        Mcp = new McpPlane(identity)
        {
            MoreSettings = settings => settings
                .Service("policy", _policy.BaseAddress)
                .Set("Mcp:ServiceClient:ClientId", ServiceClient)
                .Set("Mcp:ServiceClient:ClientSecret", TestIdentity.AgentSecret),
        };
        await Mcp.InitializeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await Mcp.DisposeAsync();
        await PolicyBus.DisposeAsync();
        await _policy.DisposeAsync();
        await _policyDb.DisposeAsync();
        await _policyVhost.DisposeAsync();
    }
}

/// <summary>get_autonomy_report: the calling agent's report from policy, fetched without passing the agent's token on.</summary>
public sealed class McpAutonomyTests(McpWithPolicy fixture) : IClassFixture<McpWithPolicy>
{
    [Fact]
    public async Task The_autonomy_report_is_the_calling_agents_own_read_from_policy_with_orchestrators_credentials()
    {
        await fixture.PolicyBus.PublishAsync(new PrincipalChanged(IdentityFixture.RemediationAgent, "agent", "Remediation agent", IdentityFixture.Sam,
            "remediation", ["dev", "production"], ["restart", "deploy"], "registered", "admin@example.com", DateTimeOffset.UtcNow));
        await using var client = await fixture.Mcp.ClientAsync(IdentityFixture.RemediationAgent);

        // The agent's token names the MCP resource as audience: had it been forwarded, policy would have refused it.
        var report = await Eventually.UntilAsync(
            async () => await McpPlane.CallAsync(client, "get_autonomy_report", []),
            r => r.IsError != true, TimeSpan.FromSeconds(20), "policy to know the agent");
        var json = McpPlane.Json(report);

        Assert.Equal(IdentityFixture.RemediationAgent, json.GetProperty("agentId").GetString());
        Assert.Equal("remediation", json.GetProperty("fleet").GetString());
        var entries = json.GetProperty("entries").EnumerateArray()
            .Select(e => $"{e.GetProperty("environment").GetString()}/{e.GetProperty("actionKind").GetString()}").Order(StringComparer.Ordinal);
        Assert.Equal(["dev/deploy", "dev/restart", "production/deploy", "production/restart"], entries);
    }

    [Fact]
    public async Task An_agent_policy_does_not_know_gets_policys_reason_as_a_tool_error()
    {
        await using var client = await fixture.Mcp.ClientAsync(IdentityFixture.TestingAgent);
        var result = await McpPlane.CallAsync(client, "get_autonomy_report", []);

        Assert.True(result.IsError);
        Assert.Equal($"The autonomy report is not available: policy answered 404: Policy has not heard of agent '{IdentityFixture.TestingAgent}' from identity (PrincipalChanged).",
            McpPlane.Text(result));
    }
}

/// <summary>Without service credentials the tool says what to configure instead of failing obscurely.</summary>
public sealed class McpAutonomyUnconfiguredTests(McpPlane fixture) : IClassFixture<McpPlane>
{
    [Fact]
    public async Task Without_service_credentials_the_autonomy_tool_names_the_settings_to_configure()
    {
        await using var client = await fixture.ClientAsync(IdentityFixture.WatcherAgent);
        var result = await McpPlane.CallAsync(client, "get_autonomy_report", []);

        Assert.True(result.IsError);
        Assert.Contains("Mcp:ServiceClient:ClientId", McpPlane.Text(result), StringComparison.Ordinal);
    }
}

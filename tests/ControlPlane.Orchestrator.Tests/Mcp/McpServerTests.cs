using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Orchestrator.Tests.Infrastructure;

namespace ControlPlane.Orchestrator.Tests.Mcp;

/// <summary>
/// The MCP server end to end: the SDK's client over Streamable HTTP against orchestrator on Kestrel, with real identity
/// tokens for the MCP resource, PostgreSQL, RabbitMQ and Redis. Proposals made through MCP pass the same intake as POST
/// /proposals; an agent sees only its own.
/// </summary>
public sealed class McpServerTests(McpPlane fixture) : IClassFixture<McpPlane>
{
    private readonly OrchestratorPlane _plane = fixture.Plane;

    [Fact]
    public async Task The_server_lists_the_four_agent_tools_with_descriptions_and_the_proposal_shape()
    {
        await using var client = await fixture.ClientAsync(IdentityFixture.RemediationAgent);
        var tools = await client.ListToolsAsync(cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(["get_autonomy_report", "get_proposal_status", "propose_action", "wait_for_decision"], tools.Select(t => t.Name).Order(StringComparer.Ordinal));
        Assert.All(tools, t => Assert.True(t.Description.Length > 60, $"{t.Name} needs a description a model can use"));
        var propose = tools.Single(t => t.Name == "propose_action").JsonSchema;
        var properties = propose.GetProperty("properties");
        foreach (var name in new[] { "idempotencyKey", "action", "targets", "environment", "change" })
        {
            Assert.True(properties.TryGetProperty(name, out _), $"propose_action takes {name}: {propose}");
        }
    }

    [Fact]
    public async Task A_proposal_made_through_mcp_is_recorded_as_one_posted_over_http_and_its_key_is_idempotent()
    {
        await using var client = await fixture.ClientAsync(IdentityFixture.RemediationAgent);
        var proposal = OrchestratorPlane.Proposal($"mcp-{Guid.NewGuid():N}");

        var accepted = McpPlane.Json(await McpPlane.CallAsync(client, "propose_action", McpPlane.ProposeArguments(proposal)));
        var id = accepted.GetProperty("id").GetGuid();
        Assert.Equal("submitted", accepted.GetProperty("state").GetString());
        Assert.False(accepted.GetProperty("duplicate").GetBoolean());

        // The events intake always publishes (evidence records them) carry the agent of the token.
        var submitted = await _plane.Bus.WaitForAsync<ProposalSubmitted>(s => s.ProposalId == id, "ProposalSubmitted of the MCP proposal");
        Assert.Equal(IdentityFixture.RemediationAgent, submitted.AgentId);
        Assert.Equal(proposal.Targets, submitted.Targets);

        using var http = await _plane.AgentAsync(IdentityFixture.RemediationAgent);
        using var view = JsonDocument.Parse(await http.GetStringAsync($"proposals/{id}", TestContext.Current.CancellationToken));
        Assert.Equal(IdentityFixture.RemediationAgent, view.RootElement.GetProperty("agentId").GetString());
        Assert.Equal(proposal.IdempotencyKey, view.RootElement.GetProperty("idempotencyKey").GetString());
        Assert.Equal("restart", view.RootElement.GetProperty("action").GetProperty("kind").GetString());
        Assert.Equal("submitted over mcp", view.RootElement.GetProperty("history")[0].GetProperty("reason").GetString());

        var again = McpPlane.Json(await McpPlane.CallAsync(client, "propose_action", McpPlane.ProposeArguments(proposal)));
        Assert.Equal(id, again.GetProperty("id").GetGuid());
        Assert.True(again.GetProperty("duplicate").GetBoolean());
    }

    [Fact]
    public async Task An_invalid_environment_is_refused_with_the_message_http_gives_and_the_refusal_is_recorded()
    {
        var proposal = OrchestratorPlane.Proposal($"mcp-bad-{Guid.NewGuid():N}", environment: "moon");
        using var http = await _plane.AgentAsync(IdentityFixture.WatcherAgent);
        using var response = await http.PostAsJsonAsync("proposals", proposal, ContractJson.Options, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        var httpMessage = problem.RootElement.GetProperty("errors").GetProperty("environment")[0].GetString()!;
        Assert.Contains("moon", httpMessage, StringComparison.Ordinal);

        await using var client = await fixture.ClientAsync(IdentityFixture.WatcherAgent);
        var refused = await McpPlane.CallAsync(client, "propose_action", McpPlane.ProposeArguments(proposal with { IdempotencyKey = proposal.IdempotencyKey + "-mcp" }));
        Assert.True(refused.IsError);
        Assert.Contains("environment: " + httpMessage, McpPlane.Text(refused), StringComparison.Ordinal);

        await _plane.Bus.WaitForAsync<ProposalSubmissionRefused>(r => r.IdempotencyKey == proposal.IdempotencyKey + "-mcp" &&
            r.AgentId == IdentityFixture.WatcherAgent && r.Channel == "mcp" && r.Reason.Contains("environment", StringComparison.Ordinal),
            "the MCP refusal recorded like an HTTP one");
    }

    [Fact]
    public async Task The_per_agent_intake_limit_applies_to_mcp_calls()
    {
        await using var client = await fixture.ClientAsync(IdentityFixture.TestingAgent);
        string? last = null;
        var errors = 0;
        // A window boundary may fall inside the burst: send enough that one window surely overflows.
        for (var i = 0; i < (McpPlane.PerMinute * 2) + 1; i++)
        {
            var result = await McpPlane.CallAsync(client, "propose_action", McpPlane.ProposeArguments(OrchestratorPlane.Proposal($"mcp-rate-{i}-{Guid.NewGuid():N}")));
            errors += result.IsError == true ? 1 : 0;
            last = McpPlane.Text(result);
        }

        Assert.True(errors > 0);
        Assert.StartsWith("Too many proposals: the proposal intake limit for this principal is reached; retry in", last, StringComparison.Ordinal);
        await _plane.Bus.WaitForAsync<ProposalSubmissionRefused>(r => r.AgentId == IdentityFixture.TestingAgent && r.Channel == "mcp" &&
            r.Reason == "rate limit exceeded", "the MCP rate-limit refusal recorded");
    }

    [Fact]
    public async Task Status_and_a_bounded_wait_follow_the_proposal_to_its_decision()
    {
        await using var client = await fixture.ClientAsync(IdentityFixture.RemediationAgent);
        var accepted = McpPlane.Json(await McpPlane.CallAsync(client, "propose_action", McpPlane.ProposeArguments(OrchestratorPlane.Proposal($"mcp-wait-{Guid.NewGuid():N}"))));
        var id = accepted.GetProperty("id").GetGuid();

        var early = McpPlane.Json(await McpPlane.CallAsync(client, "wait_for_decision", new() { ["proposalId"] = id, ["timeoutSeconds"] = 1 }));
        Assert.True(early.GetProperty("timedOut").GetBoolean());
        Assert.False(early.GetProperty("proposal").GetProperty("decided").GetBoolean());
        Assert.Equal("submitted", early.GetProperty("proposal").GetProperty("state").GetString());

        await _plane.AssessAsync(id);
        var status = McpPlane.Json(await McpPlane.CallAsync(client, "get_proposal_status", new() { ["proposalId"] = id }));
        Assert.Equal("assessing", status.GetProperty("state").GetString());

        var waiting = McpPlane.CallAsync(client, "wait_for_decision", new() { ["proposalId"] = id, ["timeoutSeconds"] = 30 });
        await _plane.DecideAsync(id, OrchestratorPlane.Deny());
        var decided = McpPlane.Json(await waiting);
        Assert.False(decided.GetProperty("timedOut").GetBoolean());
        Assert.Equal("denied", decided.GetProperty("proposal").GetProperty("state").GetString());
        Assert.Equal("deny", decided.GetProperty("proposal").GetProperty("decision").GetString());
        Assert.Contains(OrchestratorPlane.Deny().Reasons[0], decided.GetProperty("proposal").GetProperty("decisionReasons").EnumerateArray().Select(r => r.GetString()));
    }

    [Fact]
    public async Task An_agent_sees_only_its_own_proposals_through_mcp_even_with_a_viewer_binding()
    {
        var theirs = await _plane.SubmitAsync(IdentityFixture.RemediationAgent, OrchestratorPlane.Proposal($"mcp-theirs-{Guid.NewGuid():N}"));

        // The watcher holds viewer: over HTTP it may read the proposal, over MCP it acts only as the proposing agent.
        using (var http = await _plane.AgentAsync(IdentityFixture.WatcherAgent))
        using (var response = await http.GetAsync($"proposals/{theirs}", TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await using var client = await fixture.ClientAsync(IdentityFixture.WatcherAgent);
        foreach (var tool in new[] { "get_proposal_status", "wait_for_decision" })
        {
            var result = await McpPlane.CallAsync(client, tool, new() { ["proposalId"] = theirs, ["timeoutSeconds"] = 1 });
            Assert.True(result.IsError, tool);
            Assert.Equal($"Unknown proposal: no proposal {theirs} is visible to the caller.", McpPlane.Text(result));
        }
    }

    [Fact]
    public async Task Without_a_token_the_endpoint_answers_401_naming_the_protected_resource_metadata()
    {
        using var http = _plane.Host!.CreateHttpClient();
        using var response = await http.PostAsync("mcp", Initialize(), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var challenge = Assert.Single(response.Headers.WwwAuthenticate);
        Assert.Equal("Bearer", challenge.Scheme);
        Assert.Equal($"resource_metadata=\"{new Uri(_plane.Host.BaseAddress, ".well-known/oauth-protected-resource")}\"", challenge.Parameter);
    }

    [Fact]
    public async Task A_token_for_another_audience_is_refused_and_an_mcp_token_opens_nothing_else()
    {
        // orchestrator's own audience: valid at /proposals, but not issued for the MCP resource.
        using (var http = _plane.Host!.CreateHttpClient(await _plane.Identity.AgentTokenAsync(IdentityFixture.RemediationAgent)))
        using (var response = await http.PostAsync("mcp", Initialize(), TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            var challenge = Assert.Single(response.Headers.WwwAuthenticate).Parameter!;
            Assert.Contains("resource_metadata=", challenge, StringComparison.Ordinal);
            Assert.Contains("error=\"invalid_token\"", challenge, StringComparison.Ordinal);
            Assert.Contains("wrong audience", challenge, StringComparison.Ordinal);
        }

        using (var http = _plane.Host.CreateHttpClient(await _plane.Identity.Identity.AgentTokenAsync(IdentityFixture.RemediationAgent, "policy")))
        using (var response = await http.PostAsync("mcp", Initialize(), TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        using (var http = _plane.Host.CreateHttpClient(await fixture.McpTokenAsync(IdentityFixture.RemediationAgent)))
        using (var response = await http.PostAsJsonAsync("proposals", OrchestratorPlane.Proposal($"mcp-rest-{Guid.NewGuid():N}"), ContractJson.Options,
            TestContext.Current.CancellationToken))
        {
            // The REST API keeps its own challenge: the MCP scheme changed nothing outside /mcp.
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            var challenge = Assert.Single(response.Headers.WwwAuthenticate);
            Assert.Contains("wrong audience", challenge.Parameter, StringComparison.Ordinal);
            Assert.DoesNotContain("resource_metadata", challenge.Parameter, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_valid_mcp_token_of_an_agent_without_proposals_submit_is_403_not_a_session()
    {
        using var http = _plane.Host!.CreateHttpClient(await fixture.McpTokenAsync(IdentityFixture.IdleAgent));
        using var response = await http.PostAsync("mcp", Initialize(), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("proposals:submit", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_protected_resource_metadata_names_the_resource_and_identity_as_its_authorization_server()
    {
        using var http = _plane.Host!.CreateHttpClient();
        using var response = await http.GetAsync(".well-known/oauth-protected-resource", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var metadata = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));

        Assert.Equal(McpPlane.Resource, metadata.RootElement.GetProperty("resource").GetString());
        Assert.Equal([_plane.Identity.Address.ToString().TrimEnd('/')],
            metadata.RootElement.GetProperty("authorization_servers").EnumerateArray().Select(s => s.GetString()!.TrimEnd('/')));
        Assert.Contains("header", metadata.RootElement.GetProperty("bearer_methods_supported").EnumerateArray().Select(s => s.GetString()));
    }

    private static StringContent Initialize() => new(
        """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"test","version":"1"}}}""",
        System.Text.Encoding.UTF8, "application/json");
}

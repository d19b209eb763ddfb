using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Orchestrator.Proposals;
using ControlPlane.Orchestrator.Tests.Infrastructure;
using ControlPlane.Testing;
using MassTransit;

namespace ControlPlane.Orchestrator.Tests.Integration;

public sealed class IntakePlane(IdentityFixture identity) : PlaneFixture(identity, "orch-intake");

/// <summary>POST /proposals and SubmitProposal on the bus against the real servers and identity.</summary>
public sealed partial class IntakeTests(IntakePlane fixture) : IClassFixture<IntakePlane>
{
    private readonly OrchestratorPlane _plane = fixture.Plane;

    private static string Key() => "key-" + Guid.NewGuid().ToString("N")[..12];

    [Fact]
    public async Task A_submission_is_accepted_with_its_location_persisted_and_announced()
    {
        using var http = await _plane.AgentAsync(IdentityFixture.RemediationAgent);
        var proposal = OrchestratorPlane.Proposal(Key(), "production");

        using var response = await http.PostAsJsonAsync("proposals", proposal, ContractJson.Options);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        var id = body.GetProperty("id").GetGuid();

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal($"/proposals/{id}", response.Headers.Location?.ToString());
        Assert.Equal("submitted", body.GetProperty("state").GetString());

        var submitted = await _plane.Bus.WaitForAsync<ProposalSubmitted>(s => s.ProposalId == id, "ProposalSubmitted");
        Assert.Equal(IdentityFixture.RemediationAgent, submitted.AgentId);
        Assert.Equal(IdentityFixture.Sam, submitted.SponsorId);
        Assert.Equal("remediation", submitted.Fleet);
        Assert.Equal(new ProposalContent(proposal.Action, proposal.Targets, proposal.Environment, proposal.Change, IdentityFixture.RemediationAgent).Hash(),
            submitted.ContentHash);
        await _plane.Bus.WaitForAsync<ProposalStateChanged>(c => c.ProposalId == id && c.To == ProposalState.Submitted, "ProposalStateChanged");

        var own = await http.GetFromJsonAsync<ProposalView>($"proposals/{id}", ContractJson.Options);
        Assert.Equal(ProposalState.Submitted, own!.State);
        Assert.Equal(submitted.ContentHash, own.ContentHash);
        Assert.Equal(["billing"], own.Targets);
        Assert.Single(own.History);
    }

    [Fact]
    public async Task The_same_key_and_body_is_the_same_proposal_and_another_body_is_a_conflict()
    {
        var key = Key();
        using var http = await _plane.AgentAsync(IdentityFixture.RemediationAgent);

        var first = await _plane.SubmitAsync(IdentityFixture.RemediationAgent, OrchestratorPlane.Proposal(key));
        using var again = await http.PostAsJsonAsync("proposals", OrchestratorPlane.Proposal(key), ContractJson.Options);
        using var other = await http.PostAsJsonAsync("proposals", OrchestratorPlane.Proposal(key, summary: "Something else"), ContractJson.Options);
        var otherAgent = await _plane.SubmitAsync(IdentityFixture.TestingAgent, OrchestratorPlane.Proposal(key));

        Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
        var repeat = JsonDocument.Parse(await again.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(first, repeat.GetProperty("id").GetGuid());
        Assert.True(repeat.GetProperty("duplicate").GetBoolean());
        Assert.Equal(HttpStatusCode.Conflict, other.StatusCode);
        Assert.Equal("application/problem+json", other.Content.Headers.ContentType?.MediaType);
        Assert.NotEqual(first, otherAgent); // idempotency keys are per agent
        await _plane.Bus.WaitForAsync<ProposalSubmissionRefused>(r => r.IdempotencyKey == key && r.Reason.Contains("idempotency", StringComparison.Ordinal),
            "the conflict recorded");
        Assert.Single(_plane.Bus.Seen<ProposalSubmitted>(), s => s.ProposalId == first);
    }

    [Fact]
    public async Task An_invalid_body_is_a_validation_problem_naming_each_field_and_nothing_is_stored()
    {
        using var http = await _plane.AgentAsync(IdentityFixture.RemediationAgent);
        var key = Key();
        var bad = new
        {
            idempotencyKey = key,
            action = new { kind = "Not A Slug", summary = "", parameters = new Dictionary<string, string>() },
            targets = Array.Empty<string>(),
            environment = "moon",
            change = new { digest = "nope", reference = "r" },
        };

        using var response = await http.PostAsJsonAsync("proposals", bad);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        var fields = problem.GetProperty("errors").EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal).ToArray();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(["action.kind", "action.summary", "change.digest", "environment", "targets"], fields);
        await _plane.Bus.WaitForAsync<ProposalSubmissionRefused>(r => r.IdempotencyKey == key, "the refusal recorded");
        using var empty = await http.PostAsync("proposals", JsonContent.Create<object?>(null));
        Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
    }

    [Fact]
    public async Task Submitting_needs_a_token_with_the_submit_permission()
    {
        using var anonymous = _plane.Host!.CreateHttpClient();
        using var viewer = await _plane.HumanAsync(IdentityFixture.Vera);

        using var noToken = await anonymous.PostAsJsonAsync("proposals", OrchestratorPlane.Proposal(Key()), ContractJson.Options);
        using var forbidden = await viewer.PostAsJsonAsync("proposals", OrchestratorPlane.Proposal(Key()), ContractJson.Options);

        Assert.Equal(HttpStatusCode.Unauthorized, noToken.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
    }

    [Fact]
    public async Task A_bus_submission_with_an_agent_token_is_accepted_with_a_reply_and_is_idempotent()
    {
        var token = await _plane.Identity.AgentTokenAsync(IdentityFixture.TestingAgent);
        var client = _plane.Bus.Bus.CreateRequestClient<SubmitProposal>(RequestTimeout.After(s: 20));
        var proposal = OrchestratorPlane.Proposal(Key(), "staging", targets: ["checkout"]);

        var first = await client.GetResponse<ProposalAccepted>(proposal, x => x.UseExecute(c => c.Headers.Set(ControlPlane.Contracts.MessageHeaders.AgentToken, token)));
        var second = await client.GetResponse<ProposalAccepted>(proposal, x => x.UseExecute(c => c.Headers.Set(ControlPlane.Contracts.MessageHeaders.AgentToken, token)));

        Assert.False(first.Message.Duplicate);
        Assert.True(second.Message.Duplicate);
        Assert.Equal(first.Message.ProposalId, second.Message.ProposalId);
        var stored = await _plane.GetAsync(first.Message.ProposalId);
        Assert.Equal(IdentityFixture.TestingAgent, stored.AgentId);
        Assert.Equal("submitted over bus", stored.History[0].Reason);
    }

    [Theory]
    [InlineData(null, "invalid agent token")]
    [InlineData("not-a-jwt", "invalid agent token")]
    [InlineData(IdentityFixture.IdleAgent, "does not hold a binding granting proposals:submit")]
    [InlineData(IdentityFixture.RemediationAgent, "invalid submission: environment")]
    public async Task A_bus_submission_that_cannot_be_accepted_lands_in_the_error_queue_with_the_reason(string? agent, string reason)
    {
        var key = Key();
        var token = agent switch
        {
            null => null,
            "not-a-jwt" => "not-a-jwt",
            _ => await _plane.Identity.AgentTokenAsync(agent),
        };
        var proposal = OrchestratorPlane.Proposal(key, environment: agent == IdentityFixture.RemediationAgent ? "moon" : "dev", summary: key);

        await _plane.Bus.Bus.Publish(proposal, c =>
        {
            if (token is not null)
            {
                c.Headers.Set(ControlPlane.Contracts.MessageHeaders.AgentToken, token);
            }
        });

        var refusal = await _plane.Bus.WaitForAsync<ProposalSubmissionRefused>(r => r.IdempotencyKey == key, "the refusal recorded");
        Assert.Equal("bus", refusal.Channel);
        Assert.Contains(reason, refusal.Reason, StringComparison.Ordinal);
        var faulted = await Eventually.UntilAsync(
            async () => await _plane.VirtualHost.CountMessagesAsync("orchestrator-submit-proposal_error") is null
                ? []
                : (await _plane.VirtualHost.PeekAsync("orchestrator-submit-proposal_error", 50)).Select(m => m.ToString()).ToList(),
            messages => messages.Any(m => m.Contains(key, StringComparison.Ordinal)), TimeSpan.FromSeconds(20), "the message in the _error queue");
        Assert.Contains(faulted, m => m.Contains(key, StringComparison.Ordinal) && m.Contains(reason, StringComparison.Ordinal));
        Assert.DoesNotContain(_plane.Bus.Seen<ProposalSubmitted>(), s => s.Action.Summary == key);
    }

    [Fact]
    public async Task Agents_read_only_their_own_proposals_unless_they_hold_viewer()
    {
        var id = await _plane.SubmitAsync(IdentityFixture.RemediationAgent, OrchestratorPlane.Proposal(Key()));
        using var other = await _plane.AgentAsync(IdentityFixture.TestingAgent);
        using var watcher = await _plane.AgentAsync(IdentityFixture.WatcherAgent);
        using var viewer = await _plane.HumanAsync(IdentityFixture.Vera);

        using var hidden = await other.GetAsync($"proposals/{id}");
        using var seen = await watcher.GetAsync($"proposals/{id}");
        var otherList = await other.GetFromJsonAsync<List<ProposalSummary>>("proposals?limit=200", ContractJson.Options);
        var viewerList = await viewer.GetFromJsonAsync<List<ProposalSummary>>("proposals?state=submitted&environment=dev&limit=200", ContractJson.Options);
        using var badFilter = await viewer.GetAsync("proposals?state=sleeping&limit=0");

        Assert.Equal(HttpStatusCode.NotFound, hidden.StatusCode);
        Assert.Equal(HttpStatusCode.OK, seen.StatusCode);
        Assert.DoesNotContain(otherList!, p => p.Id == id);
        Assert.All(otherList!, p => Assert.Equal(IdentityFixture.TestingAgent, p.AgentId));
        Assert.Contains(viewerList!, p => p.Id == id);
        Assert.All(viewerList!, p => Assert.Equal(ProposalState.Submitted, p.State));
        Assert.Equal(HttpStatusCode.BadRequest, badFilter.StatusCode);
        var errors = JsonDocument.Parse(await badFilter.Content.ReadAsStringAsync()).RootElement.GetProperty("errors");
        Assert.True(errors.TryGetProperty("state", out _) && errors.TryGetProperty("limit", out _));
    }
}

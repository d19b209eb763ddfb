using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Orchestrator.Integrations.GitHub;
using ControlPlane.Orchestrator.Tests.Infrastructure;
using ControlPlane.Testing;

namespace ControlPlane.Orchestrator.Tests.Integrations;

/// <summary>An orchestrator whose GitHub integration points at the local GitHub fake.</summary>
public sealed class GitHubPlane(IdentityFixture identity) : IAsyncLifetime
{
    public const string ProposalUrl = "https://console.example.com/proposals/{id}";

    public GitHubFake GitHub { get; private set; } = null!;

    public OrchestratorPlane Plane { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        GitHub = await GitHubFake.StartAsync();
        Plane = await OrchestratorPlane.StartAsync(identity, "orch-github", s => s
            .Set("Integrations:GitHub:ApiBaseUrl", GitHub.BaseAddress.ToString())
            .Set("Integrations:GitHub:Token", GitHubFake.Token)
            .Set("Integrations:GitHub:ProposalUrl", ProposalUrl)
            .Set("Messaging:Retry:Transient:MinInterval", "00:00:00.200")
            .Set("Messaging:Retry:Transient:MaxInterval", "00:00:01"));
    }

    public async ValueTask DisposeAsync()
    {
        await Plane.DisposeAsync();
        await GitHub.DisposeAsync();
    }
}

/// <summary>Commit statuses for proposals that name a repository and commit, checked request by request against the GitHub fake.</summary>
public sealed class CommitStatusTests(GitHubPlane fixture) : IClassFixture<GitHubPlane>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(45);
    private readonly OrchestratorPlane _plane = fixture.Plane;

    private static string Sha() => Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()) + "0123abcd";

    private static SubmitProposal Proposal(string? repository, string? commit) =>
        OrchestratorPlane.Proposal("gh-" + Guid.NewGuid().ToString("N")[..12], "production") is var p
            ? p with { Change = p.Change with { Repository = repository, Commit = commit } }
            : throw new InvalidOperationException();

    private IReadOnlyList<GitHubRequest> For(string sha) => fixture.GitHub.Requests.Where(r => r.Path.EndsWith("/" + sha, StringComparison.Ordinal)).ToList();

    private Task<IReadOnlyList<GitHubRequest>> UntilAsync(string sha, Func<IReadOnlyList<GitHubRequest>, bool> done, string what) =>
        Eventually.UntilAsync(() => Task.FromResult(For(sha)), done, Wait, what);

    [Fact]
    public async Task A_denied_proposal_shows_pending_then_failure_on_its_commit_with_exactly_the_documented_request()
    {
        var sha = Sha();
        var id = await _plane.SubmitAssessedAsync(Proposal("acme/billing", sha), OrchestratorPlane.Deny());

        var requests = await UntilAsync(sha, r => r.Any(x => x.AnsweredWith == 201 && x.Body.GetProperty("state").GetString() == "failure"), "a failure status on the commit");

        Assert.All(requests, r =>
        {
            Assert.Equal("POST", r.Method);
            Assert.Equal($"/repos/acme/billing/statuses/{sha}", r.Path);
            Assert.Equal($"Bearer {GitHubFake.Token}", r.Authorization);
            Assert.Equal(GitHubStatusClient.MediaType, r.Accept);
            Assert.Equal("2022-11-28", r.ApiVersion);
            Assert.StartsWith("ControlPlane-Orchestrator", r.UserAgent, StringComparison.Ordinal);
            Assert.StartsWith("application/json", r.ContentType, StringComparison.Ordinal);
            Assert.Empty(GitHubFake.Violations(r.Body));
            Assert.Equal(201, r.AnsweredWith);
            Assert.Equal("controlplane/governance", r.Body.GetProperty("context").GetString());
            Assert.Equal($"https://console.example.com/proposals/{id}", r.Body.GetProperty("target_url").GetString());
            Assert.InRange(r.Body.GetProperty("description").GetString()!.Length, 1, CommitStatus.MaxDescription);
        });
        Assert.Equal("pending", requests[0].Body.GetProperty("state").GetString());
        var last = requests[^1].Body;
        Assert.Equal("failure", last.GetProperty("state").GetString());
        Assert.StartsWith("denied", last.GetProperty("description").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_GitHub_outage_delays_the_status_but_does_not_lose_it()
    {
        var sha = Sha();
        await _plane.SubmitAssessedAsync(Proposal("acme/flaky", sha), OrchestratorPlane.Deny());

        var requests = await UntilAsync(sha, r => r.Any(x => x.AnsweredWith == 201 && x.Body.GetProperty("state").GetString() == "failure"), "the failure status after the outage");

        Assert.Equal(GitHubFake.FailuresBeforeSuccess, requests.Count(r => r.AnsweredWith == 503));
        Assert.Equal(0, await _plane.VirtualHost.CountMessagesAsync(CommitStatusConsumer.Queue + "_error") ?? 0);
    }

    [Fact]
    public async Task A_status_GitHub_refuses_goes_to_the_error_queue_with_its_reason_and_the_proposal_goes_on()
    {
        var sha = Sha();
        var id = await _plane.SubmitAssessedAsync(Proposal("acme/archived", sha), OrchestratorPlane.Deny());

        await UntilAsync(sha, r => r.Count(x => x.AnsweredWith == 422) >= 1, "GitHub's 422 for the archived repository");
        var errors = await Eventually.UntilAsync(() => _plane.VirtualHost.PeekAsync(CommitStatusConsumer.Queue + "_error"), m => m.Count >= 1, Wait, "the refused status in the _error queue");

        Assert.Contains("No commit found for SHA", errors[0].ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(For(sha), r => r.AnsweredWith == 201);
        // The first refused status (pending) may come before the decision lands: the proposal still reaches it.
        await _plane.WaitForStateAsync(id, ProposalState.Denied);
    }

    [Fact]
    public async Task A_proposal_that_names_no_commit_sends_nothing_to_GitHub()
    {
        var quiet = await _plane.SubmitAssessedAsync(Proposal(null, null), OrchestratorPlane.Deny());
        await _plane.WaitForStateAsync(quiet, ProposalState.Denied);
        var sha = Sha();
        await _plane.SubmitAssessedAsync(Proposal("acme/billing", sha), OrchestratorPlane.Deny());

        // One message at a time, in order: once the later proposal's failure is posted, the earlier one was handled.
        await UntilAsync(sha, r => r.Any(x => x.AnsweredWith == 201 && x.Body.GetProperty("state").GetString() == "failure"), "the later proposal's status");

        Assert.DoesNotContain(fixture.GitHub.Requests, r => r.Body.ValueKind == JsonValueKind.Object &&
            r.Body.TryGetProperty("target_url", out var url) && url.GetString()!.EndsWith(quiet.ToString(), StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_repository_without_a_commit_or_a_short_sha_is_refused_at_intake()
    {
        using var http = await _plane.AgentAsync(IdentityFixture.RemediationAgent);

        using var noCommit = await http.PostAsJsonAsync("proposals", Proposal("acme/billing", null), ContractJson.Options);
        using var shortSha = await http.PostAsJsonAsync("proposals", Proposal("acme/billing", "abc1234"), ContractJson.Options);
        using var badRepository = await http.PostAsJsonAsync("proposals", Proposal("not a repo", Sha()), ContractJson.Options);

        foreach (var (response, field) in new[] { (noCommit, "change.commit"), (shortSha, "change.commit"), (badRepository, "change.repository") })
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.True((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty(field, out _), field);
        }
    }
}

public sealed class CommitStatusMappingTests
{
    [Theory]
    [InlineData(ProposalState.Submitted, "pending")]
    [InlineData(ProposalState.AwaitingApproval, "pending")]
    [InlineData(ProposalState.Executing, "pending")]
    [InlineData(ProposalState.Completed, "success")]
    [InlineData(ProposalState.Denied, "failure")]
    [InlineData(ProposalState.Rejected, "failure")]
    [InlineData(ProposalState.Failed, "failure")]
    [InlineData(ProposalState.Expired, "error")]
    [InlineData(ProposalState.Cancelled, "error")]
    public void Each_state_maps_to_a_GitHub_status_state(ProposalState state, string expected) =>
        Assert.Equal(expected, CommitStatus.StateOf(state));

    [Fact]
    public void The_description_is_cut_to_what_GitHub_keeps_and_the_link_names_the_proposal()
    {
        var id = Guid.NewGuid();
        var body = CommitStatus.For(id, ProposalState.AwaitingApproval, new string('x', 300), new GitHubOptions { Token = "t", ProposalUrl = "https://c.example/p/{id}" });

        Assert.Equal(CommitStatus.MaxDescription, body.Description.Length);
        Assert.StartsWith("awaiting-approval: xxx", body.Description, StringComparison.Ordinal);
        Assert.Equal($"https://c.example/p/{id}", body.TargetUrl);
        Assert.Null(CommitStatus.For(id, ProposalState.Completed, null, new GitHubOptions { Token = "t" }).TargetUrl);
    }
}

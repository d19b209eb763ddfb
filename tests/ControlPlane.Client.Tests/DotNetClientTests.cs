using ControlPlane.Contracts;

namespace ControlPlane.Client.Tests;

[Collection(ClientPlaneCollection.Name)]
public sealed class DotNetClientTests(ClientPlane plane) : IDisposable
{
    private const string Digest = "sha256:9c1185a5c5e9fc54612808977ee8f548b2258d31ddadbb2f6a1f5b8c2a0e3f41";
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };

    private static ProposalRequest BillingFix(string? key = null, string summary = "Fix the invoice cache memory leak in billing") =>
        new("deploy", summary, ["billing"], "production",
            new ChangeReference(Digest, "git@example.com:acme/billing.git#4f2c9e1", "Redeploy the previous billing image"), IdempotencyKey: key);

    [Fact]
    public async Task An_agent_proposes_and_watches_its_proposal_until_it_waits_for_a_human()
    {
        var client = new ControlPlaneClient(_http, plane.Options());

        var submitted = await client.ProposeAsync(BillingFix());
        var waiting = await client.WatchAsync(submitted.Id, [ProposalState.AwaitingApproval], TimeSpan.FromSeconds(60));
        var read = await client.GetAsync(submitted.Id);

        Assert.Equal(ProposalState.Submitted, submitted.State);
        Assert.False(submitted.Duplicate);
        Assert.Equal(ProposalState.AwaitingApproval, waiting.State);
        Assert.Equal(DecisionOutcome.RequireApproval, waiting.Decision!.Outcome);
        Assert.Contains("checkout", waiting.Impact!.Dependents.Select(d => d.NodeId));
        Assert.Equal((submitted.Id, ClientPlane.Agent, submitted.IdempotencyKey), (read.Id, read.AgentId, read.IdempotencyKey));
    }

    [Fact]
    public async Task The_same_idempotency_key_and_body_is_the_same_proposal_and_another_body_is_a_typed_conflict()
    {
        var client = new ControlPlaneClient(_http, plane.Options());
        var key = $"dotnet-{Guid.NewGuid():N}";

        var first = await client.ProposeAsync(BillingFix(key));
        var again = await client.ProposeAsync(BillingFix(key));
        var conflict = await Assert.ThrowsAsync<ConflictException>(() => client.ProposeAsync(BillingFix(key, "Something else entirely")));

        Assert.Equal(first.Id, again.Id);
        Assert.True(again.Duplicate);
        Assert.Equal(System.Net.HttpStatusCode.Conflict, conflict.Status);
        Assert.Equal("Idempotency key conflict", conflict.Title);
    }

    [Fact]
    public async Task Bad_input_and_unknown_proposals_are_typed_errors_from_the_problem_details()
    {
        var client = new ControlPlaneClient(_http, plane.Options());

        var invalid = await Assert.ThrowsAsync<ValidationProblemException>(() =>
            client.ProposeAsync(new ProposalRequest("deploy", "", [], "mars", new ChangeReference(Digest, "ref", null))));
        var missing = await Assert.ThrowsAsync<NotFoundException>(() => client.GetAsync(Guid.NewGuid()));

        Assert.Contains("environment", invalid.Errors.Keys);
        Assert.Contains("targets", invalid.Errors.Keys);
        Assert.Equal("The proposal is not valid", invalid.Title);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, missing.Status);
    }

    [Fact]
    public async Task Refused_credentials_are_a_token_error_that_never_carries_the_secret()
    {
        // Another client id: wrong secrets for the real agent would count towards locking its credential.
        var client = new ControlPlaneClient(_http, plane.Options("no-such-agent", "wrong-secret-0123456789"));

        var refused = await Assert.ThrowsAsync<TokenRequestException>(() => client.GetAsync(Guid.NewGuid()));

        Assert.Equal("invalid_client", refused.Error);
        Assert.DoesNotContain("wrong-secret", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tokens_are_fetched_once_per_audience_and_reused()
    {
        var tokens = new TokenProvider(_http, plane.Options());

        var first = await tokens.GetTokenAsync("orchestrator");
        var again = await tokens.GetTokenAsync("orchestrator");
        var other = await tokens.GetTokenAsync("system-graph");

        Assert.Same(first, again);
        Assert.NotEqual(first, other);
        Assert.Equal(2, first.Count(c => c == '.'));
    }

    [Fact]
    public async Task Watching_past_the_timeout_throws_with_the_last_state_seen()
    {
        var client = new ControlPlaneClient(_http, plane.Options());
        var submitted = await client.ProposeAsync(BillingFix());
        await client.WatchAsync(submitted.Id, [ProposalState.AwaitingApproval], TimeSpan.FromSeconds(60));

        var timeout = await Assert.ThrowsAsync<WatchTimeoutException>(() => client.WatchAsync(submitted.Id, [ProposalState.Completed], TimeSpan.FromSeconds(1)));

        Assert.Equal(ProposalState.AwaitingApproval, timeout.Last.State);
    }

    [Fact]
    public async Task A_submission_whose_answer_is_lost_is_retried_with_the_same_key_and_stays_one_proposal()
    {
        using var lossy = new HttpClient(new LoseFirstAnswer { InnerHandler = new HttpClientHandler() }) { Timeout = TimeSpan.FromSeconds(30) };
        var client = new ControlPlaneClient(lossy, plane.Options());

        var submitted = await client.ProposeAsync(BillingFix());

        // The first POST reached orchestrator and created the proposal; its answer was lost, the retry found it.
        Assert.True(submitted.Duplicate);
        var read = await new ControlPlaneClient(_http, plane.Options()).GetAsync(submitted.Id);
        Assert.Equal(submitted.IdempotencyKey, read.IdempotencyKey);
    }

    public void Dispose() => _http.Dispose();

    /// <summary>Delivers the first proposal POST to the real orchestrator, then fails as a dropped connection would.</summary>
    private sealed class LoseFirstAnswer : DelegatingHandler
    {
        private int _posts;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            if (request.Method == HttpMethod.Post && request.RequestUri!.AbsolutePath.EndsWith("/proposals", StringComparison.Ordinal) &&
                Interlocked.Increment(ref _posts) == 1)
            {
                Assert.Equal(System.Net.HttpStatusCode.Accepted, response.StatusCode);
                response.Dispose();
                throw new HttpRequestException("connection reset (simulated after the server answered)");
            }

            return response;
        }
    }
}

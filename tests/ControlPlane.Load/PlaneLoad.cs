using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using ControlPlane.Client;
using ControlPlane.Contracts;

namespace ControlPlane.Load;

/// <summary>One history step of GET /proposals/{id}: the server's clock at each transition.</summary>
public sealed record HistoryStep(ProposalState From, ProposalState To, DateTimeOffset At);

/// <summary>The part of GET /proposals/{id} the load tool reads.</summary>
public sealed record ObservedProposal(Guid Id, ProposalState State, DateTimeOffset SubmittedAt, IReadOnlyList<HistoryStep> History)
{
    public bool IsFinished => State is ProposalState.Completed or ProposalState.Denied or ProposalState.Rejected or ProposalState.Expired
        or ProposalState.Failed or ProposalState.Cancelled;

    /// <summary>The policy's verdict: the first step out of submitted/assessing (awaiting-approval, authorized, denied, …).</summary>
    public DateTimeOffset? DecidedAt => History.FirstOrDefault(h => h.To is not (ProposalState.Submitted or ProposalState.Assessing))?.At;

    public DateTimeOffset? CompletedAt => History.FirstOrDefault(h => h.To == ProposalState.Completed)?.At;
}

/// <summary>A submission that was accepted (202), with what it was and what it became.</summary>
public sealed record Accepted(long Index, string Agent, string Environment, Guid Id)
{
    public ObservedProposal? Last { get; set; }
}

/// <summary>What the offered load produced.</summary>
public sealed record PlaneResult(long Offered, TimeSpan OfferedFor, IReadOnlyList<Accepted> Accepted, IReadOnlyDictionary<string, int> Refused,
    IReadOnlyList<TimeSpan> SubmitAnswers, DateTimeOffset StartedAt, DateTimeOffset EndedAt);

/// <summary>
/// Offers proposals open-loop (submission i leaves at i / rate whatever the plane answers) from several agents,
/// then reads each one's outcome from its own history. Production proposals wait for a human (decided is the end);
/// dev proposals run the remediation runner's restart (completed is the end).
/// </summary>
public sealed class PlaneLoad(LoadOptions options, HttpClient http, TextWriter log)
{
    private static readonly TimeSpan PollPause = TimeSpan.FromMilliseconds(500);
    private int faultsPrinted;

    public async Task<PlaneResult> RunAsync(CancellationToken cancellationToken)
    {
        var agents = LoadOptions.SeededAgents.ToDictionary(a => a, a =>
        {
            var clientOptions = new ControlPlaneClientOptions
            {
                Identity = options.Identity,
                Orchestrator = options.Orchestrator,
                ClientId = a,
                ClientSecret = $"demo-secret-{a}-development-only", // the demo seed's secrets, accepted only in Development
                SubmitAttempts = 1, // open loop: a refusal is counted, not retried into the next slot
            };
            var tokens = new TokenProvider(http, clientOptions);
            return (Client: new ControlPlaneClient(http, clientOptions, tokens), Tokens: tokens);
        });
        foreach (var agent in agents.Where(a => options.Agents.Contains(a.Key) || a.Key == LoadOptions.SeededAgents[0]).Select(a => a.Value))
        {
            await agent.Tokens.GetTokenAsync(ControlPlaneClient.Audience, cancellationToken); // tokens before the clock starts
        }

        var total = LoadStatistics.TotalOffered(options.Rate, options.Duration);
        var accepted = new ConcurrentBag<Accepted>();
        var refused = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var answers = new ConcurrentBag<TimeSpan>();
        var inFlight = new List<Task>();
        var startedAt = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        log.WriteLine($"offering {total} proposals at {options.Rate:0.##}/s for {options.Duration.TotalSeconds:0.##} s from {string.Join(", ", options.Agents)}");
        for (long next = 0; next < total;)
        {
            var due = LoadStatistics.DueBy(clock.Elapsed, options.Rate, options.Duration);
            for (; next < due; next++)
            {
                var environment = LoadStatistics.EnvironmentFor(next, options.Mix);
                // Only remediation-agent's dev restart has a runner action behind it; production rotates over every agent.
                var agent = environment == "dev" ? LoadOptions.SeededAgents[0] : options.Agents[(int)(next % options.Agents.Count)];
                var client = agents[agent].Client;
                var index = next;
                inFlight.Add(Task.Run(() => SubmitAsync(client, agent, environment, index, accepted, refused, answers, cancellationToken), cancellationToken));
            }

            await Task.Delay(1, cancellationToken);
        }

        var offeredFor = clock.Elapsed;
        await Task.WhenAll(inFlight);
        log.WriteLine($"offered in {offeredFor.TotalSeconds:0.00} s; {accepted.Count} accepted; awaiting outcomes (up to {options.Drain.TotalSeconds:0} s)");
        var list = accepted.OrderBy(a => a.Index).ToList();
        await AwaitOutcomesAsync(agents.ToDictionary(a => a.Key, a => a.Value.Tokens), list, cancellationToken);
        return new PlaneResult(total, offeredFor, list, refused, [.. answers], startedAt, DateTimeOffset.UtcNow);
    }

    private async Task SubmitAsync(ControlPlaneClient client, string agent, string environment, long index, ConcurrentBag<Accepted> accepted,
        ConcurrentDictionary<string, int> refused, ConcurrentBag<TimeSpan> answers, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            var submission = await client.ProposeAsync(Body(agent, environment, index), cancellationToken);
            answers.Add(Stopwatch.GetElapsedTime(started));
            accepted.Add(new Accepted(index, agent, environment, submission.Id));
        }
        catch (Exception e) when (e is ControlPlaneException or HttpRequestException or TaskCanceledException)
        {
            var reason = e is ControlPlaneException problem ? $"{(int)problem.Status} {problem.Title}" : e.GetType().Name;
            refused.AddOrUpdate(reason, 1, (_, n) => n + 1);
            if (ServerFault.Describe(e, index) is { } fault && Interlocked.Increment(ref faultsPrinted) <= ServerFault.Printed)
            {
                lock (log)
                {
                    log.WriteLine(fault);
                }
            }
        }
    }

    /// <summary>The README walk-throughs' bodies: a production deploy to billing (waits for a human), a dev restart of search (unattended).</summary>
    private static ProposalRequest Body(string agent, string environment, long index) => (agent, environment) switch
    {
        (_, "dev") => new ProposalRequest("restart", $"Load {index}: restart search to pick up the new synonyms file", ["search"], "dev",
            new ChangeReference("sha256:0f3a9d2c", "config/search/synonyms.txt@7d1e", "restart again with the previous file")),
        ("testing-agent", _) => new ProposalRequest("run-tests", $"Load {index}: run the billing regression suite", ["billing"], environment,
            new ChangeReference("sha256:9c1185a5", "git@example.com:acme/billing.git#4f2c9e1", null)),
        _ => new ProposalRequest("deploy", $"Load {index}: fix the invoice cache memory leak in billing", ["billing"], environment,
            new ChangeReference("sha256:9c1185a5", "git@example.com:acme/billing.git#4f2c9e1", "Redeploy the previous billing image")),
    };

    /// <summary>Reads accepted proposals (<see cref="OutcomePolling"/> chooses which) until each reached its end (decided for production, finished for dev) or the drain ends.</summary>
    private async Task AwaitOutcomesAsync(IReadOnlyDictionary<string, TokenProvider> tokens, List<Accepted> accepted, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        var reads = 0L;
        var pending = await OutcomePolling.AwaitAsync(accepted,
            items => Parallel.ForEachAsync(items, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (item, ct) =>
            {
                Interlocked.Increment(ref reads);
                try
                {
                    item.Last = await GetAsync(tokens[item.Agent], item.Id, ct);
                }
                catch (Exception e) when (e is HttpRequestException or ControlPlaneException)
                {
                    // a failed read is read again on a later pass
                }
            }),
            Done, () => deadline.Elapsed >= options.Drain, () => Task.Delay(PollPause, cancellationToken));
        log.WriteLine($"read outcomes with {reads} requests for {accepted.Count} proposals in {deadline.Elapsed.TotalSeconds:0.0} s");
        if (pending.Count > 0)
        {
            log.WriteLine($"{pending.Count} proposals had not reached their end after the drain ({options.Drain.TotalSeconds:0} s)");
        }
    }

    private static bool Done(Accepted item) => item.Last is { } last && (item.Environment == "dev" ? last.IsFinished : last.DecidedAt is not null);

    private async Task<ObservedProposal> GetAsync(TokenProvider tokens, Guid id, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(options.Orchestrator, $"proposals/{id}"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await tokens.GetTokenAsync(ControlPlaneClient.Audience, cancellationToken));
        using var response = await http.SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw await ProblemDetails.ToExceptionAsync(response, cancellationToken);
        }

        return await response.Content.ReadFromJsonAsync<ObservedProposal>(ContractJson.Options, cancellationToken)
            ?? throw new HttpRequestException($"empty answer for proposal {id}");
    }
}

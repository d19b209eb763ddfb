using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ControlPlane.Contracts;

namespace ControlPlane.Chaos.Tests.Burst;

/// <summary>
/// The burst: N proposals offered at an even pace (dev restarts that run unattended, production deploys that wait for
/// the production approver, who this class plays: it approves each one as soon as it waits), each submitted until
/// accepted under its own idempotency key (as an agent retries), then followed to its end.
/// </summary>
public sealed class ProposalBurst(PlaneClient client, Uri orchestrator, ChaosOptions options, TextWriter log)
{
    private static readonly string[] DevTargets =
        ["search", "web-app", "notifications", "reporting", "gateway", "auth", "checkout", "search-index", "email-provider", "invoices-queue"];

    private static readonly string[] ProductionTargets = ["billing", "checkout"];
    private static readonly TimeSpan SubmitPatience = TimeSpan.FromMinutes(3);

    private readonly Tracked[] _items = [.. Enumerable.Range(0, options.Proposals).Select(i => new Tracked(i, EnvironmentOf(i, options.ProductionShare)))];

    /// <summary>Every proposal offered; returns when each was accepted or refused.</summary>
    public async Task SubmitAllAsync(Stopwatch clock)
    {
        var pace = options.Burst / Math.Max(1, options.Proposals);
        var submissions = new List<Task>();
        foreach (var item in _items)
        {
            var due = pace * item.Index;
            if (due > clock.Elapsed)
            {
                await Task.Delay(due - clock.Elapsed);
            }

            submissions.Add(SubmitAsync(item));
        }

        await Task.WhenAll(submissions);
        log.WriteLine($"[{clock.Elapsed.TotalSeconds,6:0.0}] burst offered: {_items.Count(i => i.Id is not null)} accepted, {_items.Count(i => i.Refusal is not null)} refused");
    }

    /// <summary>Follows every accepted proposal (approving production ones) until <paramref name="settled"/> says stop.</summary>
    public async Task FollowAsync(Func<bool, bool> settled)
    {
        while (true)
        {
            var open = _items.Where(i => i.Id is not null && (i.State is null || !ChaosReport.IsTerminal(i.State.Value))).ToList();
            await Parallel.ForEachAsync(open, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (item, _) => await ReadAsync(item));
            var allEnded = _items.All(i => i.Refusal is not null || (i.State is { } s && ChaosReport.IsTerminal(s)));
            if (settled(allEnded))
            {
                return;
            }

            await Task.Delay(options.Proposals > 200 ? 2000 : 1000);
        }
    }

    public IReadOnlyList<ProposalOutcome> Outcomes() =>
        [.. _items.Select(i => new ProposalOutcome(i.Index, i.Environment, i.Id, i.Refusal, i.State, i.Reason))];

    private async Task SubmitAsync(Tracked item)
    {
        var production = item.Environment == "production";
        var target = production ? ProductionTargets[item.Index % ProductionTargets.Length] : DevTargets[item.Index % DevTargets.Length];
        var body = new
        {
            idempotencyKey = item.Key,
            action = production
                ? new { kind = "deploy", summary = $"Chaos {item.Index}: fix the invoice cache memory leak in {target}", parameters = new Dictionary<string, string>() }
                : new { kind = "restart", summary = $"Chaos {item.Index}: restart {target} to pick up the new synonyms file", parameters = new Dictionary<string, string>() },
            targets = new[] { target },
            environment = item.Environment,
            change = new { digest = "sha256:9c1185a5c5e9fc54612808977ee8f548b2258d31ddadbb2f6a1f5b8c2a0e3f41", reference = "git@example.com:acme/billing.git#4f2c9e1", rollbackPlan = "Redeploy the previous image" },
        };
        try
        {
            using var response = await client.SendAsync(PlaneClient.Agent, "orchestrator",
                () => new HttpRequestMessage(HttpMethod.Post, new Uri(orchestrator, "proposals")) { Content = JsonContent.Create(body, options: ContractJson.Options) }, SubmitPatience);
            var text = await response.Content.ReadAsStringAsync();
            if (response.StatusCode is HttpStatusCode.Accepted or HttpStatusCode.OK or HttpStatusCode.Created)
            {
                item.Id = JsonDocument.Parse(text).RootElement.GetProperty("id").GetGuid();
            }
            else
            {
                item.Refusal = $"{(int)response.StatusCode} {Shorten(text)}";
            }
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
        {
            item.Refusal = $"no answer within {SubmitPatience.TotalMinutes:0} min: {e.Message}";
        }
    }

    private async Task ReadAsync(Tracked item)
    {
        try
        {
            using var response = await client.SendAsync(PlaneClient.Agent, "orchestrator",
                () => new HttpRequestMessage(HttpMethod.Get, new Uri(orchestrator, $"proposals/{item.Id}")), TimeSpan.FromSeconds(5));
            if (!response.IsSuccessStatusCode)
            {
                return; // read again next pass; a proposal never found stays unknown, which the report counts as lost
            }

            var view = (await response.Content.ReadFromJsonAsync<ProposalSnapshot>(ContractJson.Options))!;
            item.State = view.State;
            item.Reason = view.History.LastOrDefault(h => h.To == view.State)?.Reason;
            if (view.State == ProposalState.AwaitingApproval)
            {
                // asked again on every pass while it waits: an answer lost with a killed replica is simply repeated
                await ApproveAsync(item, view.ContentHash);
            }
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException or JsonException)
        {
            // a killed replica or a restarting database: read again next pass
        }
    }

    private async Task ApproveAsync(Tracked item, string contentHash)
    {
        using var _ = await client.SendAsync(PlaneClient.Approver, "orchestrator",
            () => new HttpRequestMessage(HttpMethod.Post, new Uri(orchestrator, $"proposals/{item.Id}/approvals"))
            {
                Content = JsonContent.Create(new { decision = "approve", comment = "chaos suite: automatic test approver", proposalHash = contentHash }),
            }, TimeSpan.FromSeconds(10));
    }

    private static string EnvironmentOf(int index, double productionShare) =>
        productionShare > 0 && Math.Floor((index + 1) * productionShare) > Math.Floor(index * productionShare) ? "production" : "dev";

    private static string Shorten(string text) => text.Length > 300 ? text[..300] + "…" : text;

    private sealed class Tracked(int index, string environment)
    {
        public int Index { get; } = index;

        public string Environment { get; } = environment;

        public string Key { get; } = Guid.NewGuid().ToString("N");

        public Guid? Id { get; set; }

        public string? Refusal { get; set; }

        public ProposalState? State { get; set; }

        public string? Reason { get; set; }
    }

    private sealed record HistoryStep(ProposalState From, ProposalState To, string Reason, DateTimeOffset At);

    private sealed record ProposalSnapshot(Guid Id, ProposalState State, string ContentHash, IReadOnlyList<HistoryStep> History);
}

using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Evidence;
using ControlPlane.Evidence.Tests.Service;
using ControlPlane.Testing;

namespace ControlPlane.Evidence.Tests.Autonomy;

/// <summary>Evidence with the autonomy meter refreshing every second.</summary>
public sealed class AutonomyFixture : EvidenceFixture
{
    protected override void Configure(PlaneSettings settings) => settings.Set("Evidence:AutonomyMetricsInterval", "00:00:01");
}

/// <summary>
/// Real events through RabbitMQ into evidence and its projection in PostgreSQL; the figures of GET /metrics/autonomy,
/// the audit search and the OTel instruments are checked against what the test published.
/// </summary>
public sealed class AutonomyMetricsTests(AutonomyFixture fixture) : IClassFixture<AutonomyFixture>
{
    private const string Approver = "xavier@example.com";
    private const string Rejecter = "yolanda@example.com";

    /// <summary>The story of ten proposals in one fresh environment (see each comment); returns what was published.</summary>
    private sealed class Story(string environment, DateTimeOffset t0)
    {
        public string Environment { get; } = environment;

        public DateTimeOffset T0 { get; } = t0;

        public string AgentA { get; } = environment + "-agent-a";

        public string AgentB { get; } = environment + "-agent-b";

        public string AgentC { get; } = environment + "-agent-c";

        public List<(object Message, Guid? ProposalId, string? Actor, DateTimeOffset At)> Events { get; } = [];

        public void Add(object message, Guid? proposal, string? actor, DateTimeOffset at) => Events.Add((message, proposal, actor, at));

        public Guid Submit(string agent, string kind, TimeSpan offset)
        {
            var id = Guid.NewGuid();
            Add(new ProposalSubmitted(id, "sha256:" + id.ToString("N"), agent, "sponsor@example.com", "remediation",
                new ProposedAction(kind, kind + " it", new Dictionary<string, string>()), ["svc-" + kind], Environment,
                new ChangeReference("sha256:" + id.ToString("N"), "ref", "undo"), T0 + offset), id, agent, T0 + offset);
            return id;
        }

        public void Move(Guid id, ProposalState from, ProposalState to, long version, TimeSpan offset, string actor = "orchestrator") =>
            Add(new ProposalStateChanged(id, from, to, "test", actor, version, T0 + offset), id, actor, T0 + offset);

        public void Walk(Guid id, TimeSpan start, params (ProposalState State, TimeSpan At)[] states)
        {
            var from = ProposalState.Submitted;
            for (var i = 0; i < states.Length; i++)
            {
                Move(id, from, states[i].State, i + 1, states[i].At);
                from = states[i].State;
            }
        }

        public void Decide(Guid id, string human, bool approve, TimeSpan offset) =>
            Add(new ApprovalRecorded(id, human, human, approve ? ApprovalDecision.Approve : ApprovalDecision.Reject, null, "h", 1, "p", T0 + offset), id, human, T0 + offset);

        /// <summary>system-graph's assessment: the target reachable from outside or not (null: a report without reachability).</summary>
        public void Assess(Guid id, bool? reachable, TimeSpan offset)
        {
            var submitted = (ProposalSubmitted)Events.First(e => e.Message is ProposalSubmitted s && s.ProposalId == id).Message;
            var impact = new ImpactReport(7, submitted.Targets, [], 2, [], false, false, ["team"], [], [], T0 + offset)
            {
                TargetNodes = reachable is { } r
                    ? [new ImpactedNode(submitted.Targets[0], 0, [submitted.Targets[0]], 2, "team", false, [], r, null, r, r ? ["edge", submitted.Targets[0]] : null)]
                    : null,
            };
            Add(new ImpactAssessed(id, submitted, impact), id, null, T0 + offset);
        }

        public void Work(Guid id, WorkStep step, WorkOutcome? outcome, TimeSpan offset)
        {
            var work = Guid.NewGuid();
            Add(outcome is { } done
                ? new WorkCompleted(id, work, step, "runner-1", done, null, null, T0 + offset)
                : new WorkRequested(id, work, step, step.ToString(), "remediation", "deploy", new Dictionary<string, string>(), ["svc"], Environment, "h",
                    new Dictionary<string, long>(), TimeSpan.FromMinutes(1), T0 + offset), id, outcome is null ? null : "runner-1", T0 + offset);
        }
    }

    private static TimeSpan S(double seconds) => TimeSpan.FromSeconds(seconds);

    private static Story Tell()
    {
        var t0 = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 3600);
        var story = new Story("env-" + Guid.NewGuid().ToString("N")[..8], t0);

        // 1. A restart completes with no human in 10 s.
        var p1 = story.Submit(story.AgentA, "restart", S(0));
        story.Walk(p1, S(0), (ProposalState.Assessing, S(1)), (ProposalState.Authorized, S(2)), (ProposalState.Scheduled, S(3)),
            (ProposalState.Executing, S(4)), (ProposalState.Verifying, S(6)), (ProposalState.Completed, S(10)));

        // 2. A deploy on a reachable node waits 30 s for approval, runs, fails verification and is rolled back.
        var p2 = story.Submit(story.AgentA, "deploy", S(0));
        story.Assess(p2, reachable: true, S(1));
        story.Walk(p2, S(0), (ProposalState.Assessing, S(1)), (ProposalState.AwaitingApproval, S(1)));
        story.Decide(p2, Approver, approve: true, S(31));
        story.Move(p2, ProposalState.AwaitingApproval, ProposalState.Authorized, 3, S(31));
        story.Move(p2, ProposalState.Authorized, ProposalState.Executing, 4, S(35));
        story.Move(p2, ProposalState.Executing, ProposalState.Verifying, 5, S(40));
        story.Work(p2, WorkStep.Verify, WorkOutcome.Failed, S(45));
        story.Work(p2, WorkStep.Rollback, null, S(46));
        story.Move(p2, ProposalState.Verifying, ProposalState.Failed, 6, S(60));

        // 3. A deploy on an unreachable internal node, rejected after 10 s.
        var p3 = story.Submit(story.AgentB, "deploy", S(0));
        story.Assess(p3, reachable: false, S(1));
        story.Walk(p3, S(0), (ProposalState.Assessing, S(1)), (ProposalState.AwaitingApproval, S(2)));
        story.Decide(p3, Rejecter, approve: false, S(12));
        story.Move(p3, ProposalState.AwaitingApproval, ProposalState.Rejected, 3, S(12));

        // 4. A restart still waiting since t0 + 5 s.
        var p4 = story.Submit(story.AgentB, "restart", S(0));
        story.Walk(p4, S(0), (ProposalState.Assessing, S(1)), (ProposalState.AwaitingApproval, S(5)));

        // 5-9. Five denials of one agent within four minutes: a burst.
        for (var i = 0; i < 5; i++)
        {
            var denied = story.Submit(story.AgentC, "scale", TimeSpan.FromMinutes(i));
            story.Move(denied, ProposalState.Submitted, ProposalState.Denied, 1, TimeSpan.FromMinutes(i));
        }

        // 10. A restart approved after 20 s completes 40 s after submission: completed, but not unattended. Its impact
        //     report says nothing about reachability: it counts as reachable.
        var p10 = story.Submit(story.AgentA, "restart", S(0));
        story.Assess(p10, reachable: null, S(1));
        story.Walk(p10, S(0), (ProposalState.Assessing, S(1)), (ProposalState.AwaitingApproval, S(1)));
        story.Decide(p10, Approver, approve: true, S(21));
        story.Move(p10, ProposalState.AwaitingApproval, ProposalState.Authorized, 3, S(21));
        story.Move(p10, ProposalState.Authorized, ProposalState.Executing, 4, S(25));
        story.Move(p10, ProposalState.Executing, ProposalState.Completed, 5, S(40));
        return story;
    }

    private async Task<Story> PublishAsync()
    {
        var story = Tell();
        foreach (var e in story.Events)
        {
            await fixture.Publisher.PublishAsync(e.Message);
        }

        return story;
    }

    private async Task<AutonomyMetrics> SettledMetricsAsync(HttpClient http, Story story) =>
        await Eventually.UntilAsync(
            async () => (await http.GetFromJsonAsync<AutonomyMetrics>(
                $"metrics/autonomy?environment={story.Environment}&from={Uri.EscapeDataString(story.T0.AddMinutes(-1).ToString("O"))}&to={Uri.EscapeDataString(story.T0.AddMinutes(30).ToString("O"))}",
                ContractJson.Options))!,
            m => m.Totals.Proposals == 10 && m.Totals.Completed == 2 && m.Totals.Failed == 1 && m.Totals.RolledBack == 1 && m.Totals.Denied == 5
                && m.Totals.Rejected == 1 && m.Approvals.Decided == 3 && m.Approvals.Waiting == 1,
            TimeSpan.FromSeconds(60), "the projection to hold the story");

    [Fact]
    public async Task The_autonomy_figures_follow_the_events_evidence_recorded()
    {
        var story = await PublishAsync();
        using var viewer = await fixture.ClientAsync(EvidenceFixture.Viewer);

        var m = await SettledMetricsAsync(viewer, story);

        Assert.Equal(new AutonomyTotals(10, 2, 1, 1, 1, 1, 5, 0, 0, 1, 0), m.Totals);
        Assert.Equal(0.5, m.AutonomyRate);
        Assert.Equal(1.0 / 3, m.ChangeFailureRate!.Value, 9);
        Assert.Equal(1.0 / 3, m.RollbackRate!.Value, 9);
        Assert.Equal(new LatencySummary(10_000, 40_000), m.TimeToComplete);
        Assert.Equal(story.T0 + S(5), m.Approvals.OldestWaitingSince);
        Assert.Equal(new LatencySummary(20_000, 30_000), m.Approvals.Latency);
        Assert.Equal(2, m.Approvals.ByHuman.Count);
        Assert.Equal(new HumanApprovals(Approver, 2, 0, new LatencySummary(20_000, 30_000)), m.Approvals.ByHuman.Single(h => h.Human == Approver));
        Assert.Equal(new HumanApprovals(Rejecter, 0, 1, new LatencySummary(10_000, 10_000)), m.Approvals.ByHuman.Single(h => h.Human == Rejecter));
        Assert.Equal([new AutonomyBreakdown(story.Environment, 10, 2, 1, 0.5, 1, 1)], m.ByEnvironment);
        Assert.Equal(
            [
                new AutonomyBreakdown(story.AgentA, 3, 2, 1, 0.5, 1, 1),
                new AutonomyBreakdown(story.AgentB, 2, 0, 0, null, 0, 0),
                new AutonomyBreakdown(story.AgentC, 5, 0, 0, null, 0, 0),
            ], m.ByAgent);
        Assert.Equal(["deploy", "restart", "scale"], m.ByActionKind.Select(b => b.Key));
        Assert.Equal(new DeniedBurst(story.AgentC, 5, story.T0), Assert.Single(m.DeniedBursts));

        // Filters narrow every figure; the wire spells absent rates as null.
        var restartsOfA = (await viewer.GetFromJsonAsync<AutonomyMetrics>(
            $"metrics/autonomy?environment={story.Environment}&agent={story.AgentA}&actionKind=restart&from={Uri.EscapeDataString(story.T0.AddMinutes(-1).ToString("O"))}",
            ContractJson.Options))!;
        Assert.Equal(2, restartsOfA.Totals.Proposals);
        Assert.Equal(0.5, restartsOfA.AutonomyRate);
        var json = JsonDocument.Parse(await viewer.GetStringAsync($"metrics/autonomy?environment={story.Environment}&agent={story.AgentC}&from={Uri.EscapeDataString(story.T0.AddMinutes(-1).ToString("O"))}")).RootElement;
        Assert.Equal(JsonValueKind.Null, json.GetProperty("autonomyRate").ValueKind);
        Assert.Equal(JsonValueKind.Null, json.GetProperty("timeToComplete").GetProperty("p50Ms").ValueKind);
        Assert.Equal(5, json.GetProperty("totals").GetProperty("denied").GetInt32());
    }

    [Fact]
    public async Task Human_attention_is_counted_by_whether_the_impact_was_reachable()
    {
        var story = await PublishAsync();
        using var viewer = await fixture.ClientAsync(EvidenceFixture.Viewer);

        var m = await SettledMetricsAsync(viewer, story);

        // Decisions on p2 (reachable) and p10 (reachability unknown: fail closed) against p3 (unreachable).
        Assert.Equal((2, 1), (m.Approvals.SpentOnReachable, m.Approvals.SpentOnUnreachable));
        var json = JsonDocument.Parse(await viewer.GetStringAsync(
            $"metrics/autonomy?environment={story.Environment}&agent={story.AgentB}&from={Uri.EscapeDataString(story.T0.AddMinutes(-1).ToString("O"))}")).RootElement;
        Assert.Equal(0, json.GetProperty("approvals").GetProperty("spentOnReachable").GetInt32());
        Assert.Equal(1, json.GetProperty("approvals").GetProperty("spentOnUnreachable").GetInt32());
    }

    [Fact]
    public async Task The_audit_search_filters_by_agent_human_environment_kind_and_time_and_pages_with_a_total()
    {
        var story = await PublishAsync();
        using var auditor = await fixture.ClientAsync(EvidenceFixture.Auditor);
        await SettledMetricsAsync(auditor, story);
        var all = story.Events;

        async Task<EvidenceSearchPage> SearchAsync(string query) =>
            (await auditor.GetFromJsonAsync<EvidenceSearchPage>("evidence/records?" + query, EvidenceFormat.Json))!;

        var approvals = await SearchAsync($"environment={story.Environment}&kind=ApprovalRecorded&page=1&pageSize=2");
        Assert.Equal(3, approvals.Total);
        Assert.Equal(2, approvals.Records.Count);
        Assert.True(approvals.Records[0].Sequence > approvals.Records[1].Sequence, "newest first");
        var second = await SearchAsync($"environment={story.Environment}&kind=ApprovalRecorded&page=2&pageSize=2");
        Assert.Single(second.Records);
        Assert.DoesNotContain(second.Records[0].Sequence, approvals.Records.Select(r => r.Sequence));

        var ofAgentC = await SearchAsync($"agent={story.AgentC}&pageSize=100");
        Assert.Equal(all.Count(e => e.Message is ProposalSubmitted s && s.AgentId == story.AgentC) * 2, ofAgentC.Total);
        var byHuman = await SearchAsync($"human={Approver}&environment={story.Environment}&pageSize=100");
        Assert.Equal(all.Count(e => e.Actor == Approver), byHuman.Total);
        Assert.All(byHuman.Records, r => Assert.Equal(Approver, r.Actor));
        var from = story.T0 + S(30);
        var to = story.T0 + TimeSpan.FromMinutes(2);
        var late = await SearchAsync($"environment={story.Environment}&from={Uri.EscapeDataString(from.ToString("O"))}&to={Uri.EscapeDataString(to.ToString("O"))}&pageSize=100");
        Assert.Equal(all.Count(e => e.ProposalId is not null && e.At >= from && e.At < to), late.Total);

        // The old since/limit paging still answers in sequence order, now with the new filters too.
        var oldest = (await auditor.GetFromJsonAsync<EvidencePage>($"evidence/records?environment={story.Environment}&kind=ProposalSubmitted&limit=3", EvidenceFormat.Json))!;
        Assert.Equal(3, oldest.Records.Count);
        Assert.Equal(oldest.Records[^1].Sequence, oldest.Next);

        using var bad = await auditor.GetAsync("evidence/records?from=yesterday&page=0");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("application/problem+json", bad.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Chain_status_and_metrics_need_an_unscoped_evidence_read()
    {
        using var auditor = await fixture.ClientAsync(EvidenceFixture.Auditor);
        using var scoped = await fixture.ClientAsync(EvidenceFixture.ProductionApprover);
        using var nobody = await fixture.ClientAsync(EvidenceFixture.Nobody);
        using var anonymous = await fixture.ClientAsync(null);

        var status = (await auditor.GetFromJsonAsync<ChainStatus>("evidence/verification", ContractJson.Options))!;

        Assert.True(status.Verified);
        Assert.Null(status.FirstBroken);
        Assert.True(status.Records >= 1);
        Assert.Equal(HttpStatusCode.Forbidden, (await scoped.GetAsync("evidence/verification")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await scoped.GetAsync("metrics/autonomy")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await nobody.GetAsync("metrics/autonomy")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("metrics/autonomy")).StatusCode);
        using var inverted = await auditor.GetAsync("metrics/autonomy?from=2026-12-04T10:00:00Z&to=2026-12-03T10:00:00Z");
        Assert.Equal(HttpStatusCode.BadRequest, inverted.StatusCode);
    }

    [Fact]
    public async Task The_same_figures_are_OpenTelemetry_instruments_of_the_evidence_meter()
    {
        var story = await PublishAsync();
        using var viewer = await fixture.ClientAsync(EvidenceFixture.Viewer);
        await SettledMetricsAsync(viewer, story);
        var seen = new Dictionary<string, (string? Unit, string? Description, double Value, string Tags)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "ControlPlane.Evidence" && instrument.Name.StartsWith("controlplane.a", StringComparison.Ordinal))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var key = instrument.Name + string.Concat(tags.ToArray().Select(t => $"|{t.Key}={t.Value}"));
            seen[key] = (instrument.Unit, instrument.Description, value, key);
        }

        listener.SetMeasurementEventCallback<long>((i, v, t, _) => Record(i, v, t));
        listener.SetMeasurementEventCallback<double>((i, v, t, _) => Record(i, v, t));
        listener.Start();

        // The meter refreshes every second in this fixture; the 24 h window holds the story plus other tests' events.
        await Eventually.UntilAsync(() =>
        {
            seen.Clear();
            listener.RecordObservableInstruments();
            // A snapshot taken while the story was still arriving shows 1.0; the settled one 0.5 (1 of 2 completed unattended).
            return Task.FromResult(seen.TryGetValue("controlplane.autonomy.proposals|outcome=denied", out var denied) && denied.Value >= 5
                && seen.TryGetValue($"controlplane.autonomy.rate|environment={story.Environment}", out var rate) && rate.Value == 0.5);
        }, TimeSpan.FromSeconds(30), "the autonomy rate instrument of the story's environment to read 0.5");

        Assert.Equal("1", seen[$"controlplane.autonomy.rate|environment={story.Environment}"].Unit);
        Assert.Equal("{proposal}", seen["controlplane.autonomy.proposals|outcome=denied"].Unit);
        Assert.True(seen["controlplane.approvals.waiting"].Value >= 1);
        Assert.Equal("s", seen["controlplane.approvals.oldest_wait"].Unit);
        Assert.True(seen["controlplane.autonomy.denied_bursts"].Value >= 1);
        Assert.Equal("ms", seen["controlplane.autonomy.time_to_complete|quantile=p95"].Unit);
        // Refreshed every second here (a refresh of this test database is far below a twentieth of that).
        Assert.Equal("s", seen["controlplane.autonomy.snapshot_age"].Unit);
        Assert.InRange(seen["controlplane.autonomy.snapshot_age"].Value, 0, 30);
        Assert.All(seen.Values, v => Assert.False(string.IsNullOrEmpty(v.Description)));
    }
}

using System.Globalization;

namespace ControlPlane.Load;

/// <summary>Prints a run: the plane's figures (latencies from each proposal's server-side history), the baselines and the ratios.</summary>
public static class LoadReport
{
    public static void Write(TextWriter output, LoadOptions options, PlaneResult plane, EvidenceAppends? evidence, IReadOnlyList<BaselineFigure> baselines, string? synchronousCommit)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(plane);
        ArgumentNullException.ThrowIfNull(baselines);
        var seen = plane.Accepted.Where(a => a.Last is not null).Select(a => (a.Environment, Proposal: a.Last!)).ToList();
        var decided = seen.Where(s => s.Proposal.DecidedAt is not null).ToList();
        var completed = seen.Where(s => s.Proposal.CompletedAt is not null).ToList();
        var firstSubmit = seen.Count > 0 ? seen.Min(s => s.Proposal.SubmittedAt) : DateTimeOffset.MinValue;
        var decidedRate = decided.Count > 0 ? LoadStatistics.Throughput(decided.Count, firstSubmit, decided.Max(d => d.Proposal.DecidedAt!.Value)) : null;
        var completedRate = completed.Count > 0 ? LoadStatistics.Throughput(completed.Count, firstSubmit, completed.Max(d => d.Proposal.CompletedAt!.Value)) : null;

        output.WriteLine();
        output.WriteLine($"== plane ({options.Orchestrator}; agents {string.Join(", ", options.Agents)}; mix {string.Join(":", options.Mix.Select(m => $"{m.Environment}={m.Weight}"))})");
        Line(output, "offered", $"{plane.Offered} at {options.Rate:0.##}/s for {options.Duration.TotalSeconds:0.##} s (sent in {plane.OfferedFor.TotalSeconds:0.00} s)");
        Line(output, "accepted", $"{plane.Accepted.Count}" + (plane.Refused.Count == 0 ? "" : $"; refused {string.Join(", ", plane.Refused.Select(r => $"{r.Value} × {r.Key}"))}"));
        Line(output, "final states", string.Join(", ", seen.GroupBy(s => $"{s.Environment} {Name(s.Proposal.State)}").OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Count()} {g.Key}")));
        Line(output, "decided", $"{decided.Count}; throughput {Rate(decidedRate)} (server clock, first submit → last decision)");
        Line(output, "completed", $"{completed.Count}; throughput {Rate(completedRate)} (server clock, first submit → last completion)");
        Line(output, "submit answer (HTTP)", Latency(LoadStatistics.Summarize(plane.SubmitAnswers)) + " (client clock)");
        var toDecided = LoadStatistics.Summarize(decided.Select(d => d.Proposal.DecidedAt!.Value - d.Proposal.SubmittedAt));
        Line(output, "submit→decided", Latency(toDecided) + " (server history)");
        Line(output, "submit→completed", Latency(LoadStatistics.Summarize(completed.Select(d => d.Proposal.CompletedAt!.Value - d.Proposal.SubmittedAt))) + " (server history)");
        Line(output, "evidence appends", evidence is null ? "not read (evidence's database not found; --evidence-db)" : $"{evidence.Count} records; {Rate(evidence.PerSecond)} (first → last recorded_at)");

        if (baselines.Count == 0)
        {
            return;
        }

        WriteBaselines(output, baselines, synchronousCommit);

        output.WriteLine();
        output.WriteLine("== ratios (plane / baseline)");
        var broker = baselines.Where(b => b.What.StartsWith("RabbitMQ", StringComparison.Ordinal)).MaxBy(b => b.PerSecond);
        var brokerOne = baselines.FirstOrDefault(b => b.What.StartsWith("RabbitMQ", StringComparison.Ordinal) && b.InFlight == 1);
        var insertOne = baselines.FirstOrDefault(b => b.What.StartsWith("PostgreSQL", StringComparison.Ordinal) && b.InFlight == 1);
        if (broker is not null)
        {
            Line(output, "decided/s ÷ broker round trips/s", $"{Ratio(decidedRate ?? 0, broker.PerSecond)} (best broker figure: {broker.InFlight} in flight)");
        }

        if (brokerOne is not null && toDecided.Count > 0)
        {
            Line(output, "submit→decided p50 ÷ round trip p50", $"{toDecided.P50.TotalMilliseconds / brokerOne.Latency.P50.TotalMilliseconds:0.0} round trips");
        }

        if (insertOne is not null && evidence?.PerSecond is { } appends)
        {
            Line(output, "evidence appends/s ÷ inserts/s", $"{Ratio(appends, insertOne.PerSecond)} (what this run asked of evidence, not its limit: --mode evidence)");
        }
    }

    /// <summary>The evidence-append mode: sustained appends and append latency, next to the raw insert rate.</summary>
    public static void WriteEvidence(TextWriter output, LoadOptions options, EvidenceLoadResult result, IReadOnlyList<BaselineFigure> baselines, string? synchronousCommit)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(baselines);
        output.WriteLine();
        output.WriteLine($"== evidence appends (straight to evidence's queue; {EvidenceLoad.EventsPerProposal} records per proposal chain)");
        Line(output, "offered", $"{result.Offered} at {options.Rate:0.##}/s for {options.Duration.TotalSeconds:0.##} s (sent in {result.OfferedFor.TotalSeconds:0.00} s)"
            + (result.Refused == 0 ? "" : $"; {result.Refused} not confirmed by the broker"));
        Line(output, "appended", $"{result.Recorded}; sustained {Rate(result.PerSecond)} (server clock, first → last recorded_at)");
        Line(output, "offer→recorded", Latency(result.PublishToRecorded) + " (offer time in the event → recorded_at)");
        if (baselines.Count == 0)
        {
            return;
        }

        WriteBaselines(output, baselines, synchronousCommit);

        var inserts = baselines.Where(b => b.What.StartsWith("PostgreSQL", StringComparison.Ordinal)).MaxBy(b => b.PerSecond);
        if (inserts is not null)
        {
            output.WriteLine();
            output.WriteLine("== ratios (plane / baseline)");
            Line(output, "evidence appends/s ÷ inserts/s", $"{Ratio(result.PerSecond ?? 0, inserts.PerSecond)} (best insert figure: {inserts.InFlight} in flight)");
        }
    }

    private static void WriteBaselines(TextWriter output, IReadOnlyList<BaselineFigure> baselines, string? synchronousCommit)
    {
        output.WriteLine();
        output.WriteLine($"== baselines (same servers, same run; PostgreSQL synchronous_commit={synchronousCommit ?? "?"})");
        foreach (var b in baselines)
        {
            Line(output, $"{b.What}, {b.InFlight} in flight", $"{b.PerSecond:0}/s; {Latency(b.Latency)}");
        }
    }

    public static void WriteMemory(TextWriter output, string title, IReadOnlyList<ServiceRss> services)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(services);
        output.WriteLine();
        output.WriteLine($"== {title}");
        foreach (var s in services)
        {
            Line(output, $"{s.Service} (:{s.Port})", s.RssBytes is { } rss ? $"{Mb(rss)} (anonymous {(s.AnonBytes is { } anon ? Mb(anon) : "?")}; pid {s.ProcessId})" : "not found (not running, or not this user's)");
        }
    }

    /// <summary>CPU per proposal (or record) by process, and the ceiling it puts on throughput on this machine's cores.</summary>
    public static void WriteCpu(TextWriter output, string unit, string window, IReadOnlyList<CpuShare> shares)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(shares);
        output.WriteLine();
        output.WriteLine($"== CPU per {unit} (/proc, {window})");
        foreach (var s in shares)
        {
            Line(output, s.Group, $"{s.MillisecondsPerUnit:0.00} ms ({s.ShareOfTotal:P0})");
        }

        var total = shares.Sum(s => s.MillisecondsPerUnit);
        if (total > 0)
        {
            Line(output, "total", $"{total:0.00} ms: {Environment.ProcessorCount} cores spend it at most {Environment.ProcessorCount * 1000 / total:0}/s");
        }
    }

    /// <summary>The rest of the machine around the run; warnings say when figures from it are not comparable.</summary>
    public static void WriteMachine(TextWriter output, MachineReport machine)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(machine);
        output.WriteLine();
        output.WriteLine("== machine (/proc, /sys: the rest of the box around this run)");
        Line(output, "busy before the run", machine.BusyBefore is { } busy
            ? $"{busy * 100:0}% of {Environment.ProcessorCount} cores (2 s: the idle plane and anything else)"
            : "not read (Linux /proc only)");
        Line(output, "evicted page cache read back", machine.RefaultedBytes is { } refaulted
            ? $"{Mb(refaulted)} during the run ({machine.MajorFaults} major faults)"
            : "not read");
        Line(output, "proactive pageout (DAMON)", machine.ProactivePageout ?? "off");
        Line(output, "youngest service started", machine.YoungestService is { } age ? $"{Age(age)} before the run" : "not read");
        foreach (var warning in machine.Warnings)
        {
            output.WriteLine($"  note: {warning}");
        }
    }

    private static string Age(TimeSpan age) => age.TotalMinutes >= 1 ? $"{(int)age.TotalMinutes} min {age.Seconds} s" : $"{age.TotalSeconds:0} s";

    private static string Mb(long bytes) => $"{bytes / (1024.0 * 1024.0):0.0} MB";

    private static void Line(TextWriter output, string label, string value) => output.WriteLine($"  {label,-44} {value}");

    private static string Name(Contracts.ProposalState state) => System.Text.Json.JsonNamingPolicy.KebabCaseLower.ConvertName(state.ToString());

    private static string Rate(double? perSecond) => perSecond is { } r ? $"{r:0.0}/s" : "n/a";

    private static string Ratio(double ours, double? baseline) => LoadStatistics.Ratio(ours, baseline) is { } r ? r.ToString("P1", CultureInfo.InvariantCulture) : "n/a";

    private static string Latency(LatencySummary s) => s.Count == 0
        ? "none measured"
        : $"n={s.Count} p50 {Ms(s.P50)} p95 {Ms(s.P95)} p99 {Ms(s.P99)} max {Ms(s.Max)}";

    private static string Ms(TimeSpan t) => t.TotalMilliseconds >= 1000 ? $"{t.TotalSeconds:0.00} s" : $"{t.TotalMilliseconds:0.0} ms";
}

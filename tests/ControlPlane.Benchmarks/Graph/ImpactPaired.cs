using System.Diagnostics;
using System.Globalization;
using System.Linq.Expressions;
using System.Reflection;
using System.Runtime.Loader;
using ControlPlane.Contracts;

namespace ControlPlane.Benchmarks.Graph;

/// <summary>
/// Two builds of the blast radius side by side in one process: each build's ControlPlane.SystemGraph.dll in its own
/// load context, the same graphs and targets given to both, batches of calls alternating (before then after, then
/// after then before) for a few seconds per row. BenchmarkDotNet runs of one build a few minutes apart differ by up to
/// half on this box; batches alternating within milliseconds see the same machine, so a before/after figure holds up.
/// On rows of a microsecond or two the build measured in one place (first or second) runs a few per cent faster even
/// when both builds are the same, so <c>--after-first</c> swaps the places and eng/bench/paired.sh runs both orders.
/// eng/bench/paired.sh builds two revisions and runs this; by hand:
/// <c>ControlPlane.Benchmarks.dll paired &lt;before-dir&gt; &lt;after-dir&gt; [--seconds N] [--graph 10k|100k] [--after-first]</c>.
/// </summary>
internal static class ImpactPaired
{
    private const string Usage = "usage: paired <before-dir> <after-dir> [--seconds N] [--graph 10k|100k] [--after-first] (each dir holds a ControlPlane.SystemGraph.dll)";
    // A batch long enough that the timer's resolution and one interruption are small against it, short enough that
    // many pairs fit in a row's time.
    private static readonly TimeSpan BatchTarget = TimeSpan.FromMilliseconds(25);
    private static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(2);

    public static int Run(string[] args)
    {
        if (args.Length < 3 || args[1].StartsWith("--", StringComparison.Ordinal) || args[2].StartsWith("--", StringComparison.Ordinal))
        {
            Console.Error.WriteLine(Usage);
            return 2;
        }

        var seconds = 8.0;
        var afterFirst = false;
        string[] graphs = ["10k", "100k"];
        for (var i = 3; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--seconds" when i + 1 < args.Length && double.TryParse(args[i + 1], CultureInfo.InvariantCulture, out seconds) && seconds > 0:
                    i++;
                    break;
                case "--after-first":
                    afterFirst = true;
                    break;
                case "--graph" when i + 1 < args.Length && args[i + 1] is "10k" or "100k":
                    graphs = [args[++i]];
                    break;
                default:
                    Console.Error.WriteLine($"unknown or incomplete option '{args[i]}'; {Usage}");
                    return 2;
            }
        }

        Build before, after;
        try
        {
            before = new Build("before", args[1]);
            after = new Build("after", args[2]);
        }
        catch (Exception ex) when (ex is FileNotFoundException or MissingMemberException or TypeLoadException or BadImageFormatException)
        {
            Console.Error.WriteLine(ex.Message);
            return 2;
        }

        Console.WriteLine($"before: {before.Describe()}");
        Console.WriteLine($"after:  {after.Describe()}");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{seconds:0.#} s per row, batches of about {BatchTarget.TotalMilliseconds:0} ms alternating, {(afterFirst ? "after" : "before")} in the first place; per call: the median of each build's batches"));
        var disagreed = false;
        foreach (var name in graphs)
        {
            var graph = LayeredGraph.Create(name);
            var snapshots = (Before: before.Snapshot(graph), After: after.Snapshot(graph));
            Console.WriteLine($"graph {name}: {graph.Nodes.Length:N0} nodes, {graph.Edges.Length:N0} edges");
            foreach (var (label, target) in new[] { ("hub", graph.Hub), ("bottom-layer", graph.Bottom), ("mid-layer", graph.Mid), ("leaf", graph.Leaf) })
            {
                string[] targets = [target];
                var counts = (Before: before.Assess(snapshots.Before, targets).Dependents.Count, After: after.Assess(snapshots.After, targets).Dependents.Count);
                if (counts.Before != counts.After)
                {
                    // Different answers make the times incomparable; say so rather than print a speed-up.
                    Console.WriteLine($"  {label}: the builds disagree: {counts.Before} dependents before, {counts.After} after");
                    disagreed = true;
                    continue;
                }

                var row = Measure(calls => before.Batch(snapshots.Before, targets, calls), calls => after.Batch(snapshots.After, targets, calls), TimeSpan.FromSeconds(seconds), afterFirst);
                Console.WriteLine($"  {label} ({counts.After:N0} dependents): {row}");
            }
        }

        return disagreed ? 1 : 0;
    }

    /// <summary>A build's batch: so many calls in that build's own loop; returns the microseconds per call.</summary>
    private delegate double Batch(int calls);

    private static PairedRow Measure(Batch before, Batch after, TimeSpan duration, bool afterFirst)
    {
        if (afterFirst)
        {
            var swapped = Measure(after, before, duration, afterFirst: false);
            return new PairedRow(swapped.AfterBatches, swapped.BeforeBatches);
        }

        var calls = Calibrate(before, after);
        var beforeMicros = new List<double>();
        var afterMicros = new List<double>();
        var began = Stopwatch.GetTimestamp();
        for (var pair = 0; pair < 6 || Stopwatch.GetElapsedTime(began) < duration; pair++)
        {
            // Alternating which goes first, so neither always runs on the caches and clock the other left.
            if (pair % 2 == 0)
            {
                beforeMicros.Add(before(calls));
                afterMicros.Add(after(calls));
            }
            else
            {
                afterMicros.Add(after(calls));
                beforeMicros.Add(before(calls));
            }
        }

        return new PairedRow(beforeMicros, afterMicros);
    }

    /// <summary>
    /// Warms both builds' code up, taking turns (tiered compilation promotes it in the background), and returns how
    /// many calls make a batch. Warming one build and then the other left the one warmed last up to 14% faster on the
    /// smallest rows with both builds the same; in turns, a few per cent remain, which <c>--after-first</c> reverses.
    /// </summary>
    private static int Calibrate(Batch before, Batch after)
    {
        var began = Stopwatch.GetTimestamp();
        var calls = 1;
        double perCall;
        do
        {
            perCall = Math.Max(before(calls), after(calls));
            if (perCall * calls < BatchTarget.TotalMicroseconds)
            {
                calls *= 2;
            }
        }
        while (Stopwatch.GetElapsedTime(began) < WarmUp);

        return Math.Max(1, (int)(BatchTarget.TotalMicroseconds / Math.Max(perCall, 0.001)));
    }

    /// <summary>One build's ControlPlane.SystemGraph loaded on its own; everything else it needs comes from this program's context.</summary>
    private sealed class Build
    {
        private readonly string _path;
        private readonly Type _snapshotType;
        private readonly Func<object, string[], ImpactReport> _assess;
        private readonly Func<object, string[], int, int> _loop;

        public Build(string name, string directory)
        {
            _path = Path.GetFullPath(Path.Combine(directory, "ControlPlane.SystemGraph.dll"));
            if (!File.Exists(_path))
            {
                throw new FileNotFoundException($"{name}: no ControlPlane.SystemGraph.dll in {Path.GetFullPath(directory)}; {Usage}", _path);
            }

            var assembly = new SingleAssemblyContext(name, _path).LoadFromAssemblyPath(_path);
            _snapshotType = assembly.GetType("ControlPlane.SystemGraph.Graph.GraphSnapshot", throwOnError: true)!;
            var analyzer = assembly.GetType("ControlPlane.SystemGraph.Graph.ImpactAnalyzer", throwOnError: true)!;
            var assess = analyzer.GetMethod("Assess", BindingFlags.Public | BindingFlags.Static, [_snapshotType, typeof(IEnumerable<string>), typeof(DateTimeOffset)])
                ?? throw new MissingMethodException($"{name}: {_path} has no ImpactAnalyzer.Assess(GraphSnapshot, IEnumerable<string>, DateTimeOffset)");
            // A compiled call rather than MethodInfo.Invoke, whose own cost would swamp the smallest rows; both builds pay it alike.
            var snapshot = Expression.Parameter(typeof(object), "snapshot");
            var targets = Expression.Parameter(typeof(string[]), "targets");
            var call = Expression.Call(assess, Expression.Convert(snapshot, _snapshotType), targets, Expression.Constant(DateTimeOffset.UnixEpoch));
            _assess = Expression.Lambda<Func<object, string[], ImpactReport>>(call, snapshot, targets).Compile();
            _loop = Expression.Lambda<Func<object, string[], int, int>>(Loop(call), snapshot, targets, Calls).Compile();
        }

        private static readonly ParameterExpression Calls = Expression.Parameter(typeof(int), "calls");

        /// <summary>
        /// The timed loop, compiled per build, so neither build is called through a site the JIT tuned on the other.
        /// </summary>
        private static BlockExpression Loop(MethodCallExpression call)
        {
            var i = Expression.Variable(typeof(int), "i");
            var sum = Expression.Variable(typeof(int), "sum");
            var done = Expression.Label(typeof(int));
            // Something of each report is used, so the call is not dead code: how many dependents it found.
            var dependents = Expression.Property(
                Expression.Convert(Expression.Property(call, nameof(ImpactReport.Dependents)), typeof(IReadOnlyCollection<ImpactedNode>)),
                nameof(IReadOnlyCollection<ImpactedNode>.Count));
            return Expression.Block([i, sum],
                Expression.Assign(i, Expression.Constant(0)),
                Expression.Assign(sum, Expression.Constant(0)),
                Expression.Loop(
                    Expression.IfThenElse(Expression.LessThan(i, Calls),
                        Expression.Block(Expression.AddAssign(sum, dependents), Expression.PostIncrementAssign(i)),
                        Expression.Break(done, sum)),
                    done));
        }

        /// <summary>Microseconds per call over <paramref name="calls"/> calls.</summary>
        public double Batch(object snapshot, string[] targets, int calls)
        {
            var start = Stopwatch.GetTimestamp();
            GC.KeepAlive(_loop(snapshot, targets, calls));
            return Stopwatch.GetElapsedTime(start).TotalMicroseconds / calls;
        }

        /// <summary>The graph in this build's own node and edge types (they live in the assembly loaded here).</summary>
        public object Snapshot(LayeredGraph graph) =>
            Activator.CreateInstance(_snapshotType, 1L, Copy(graph.Nodes, "GraphNode"), Copy(graph.Edges, "GraphEdge"))!;

        // Each record made again through this build's constructor, its arguments read from the properties of the same names.
        private Array Copy<T>(T[] items, string typeName)
        {
            var type = _snapshotType.Assembly.GetType($"ControlPlane.SystemGraph.Graph.{typeName}", throwOnError: true)!;
            var constructor = type.GetConstructors().MaxBy(c => c.GetParameters().Length)!;
            var properties = constructor.GetParameters()
                .Select(p => typeof(T).GetProperty(p.Name!, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase)
                    ?? throw new MissingMemberException($"{_path}: {typeName}'s constructor takes '{p.Name}', which this program's {typeName} does not have"))
                .ToArray();
            var copies = Array.CreateInstance(type, items.Length);
            for (var i = 0; i < items.Length; i++)
            {
                copies.SetValue(constructor.Invoke([.. properties.Select(p => p.GetValue(items[i]))]), i);
            }

            return copies;
        }

        public ImpactReport Assess(object snapshot, string[] targets) => _assess(snapshot, targets);

        public string Describe() => string.Create(CultureInfo.InvariantCulture, $"{_path} (built {File.GetLastWriteTimeUtc(_path):yyyy-MM-dd HH:mm} UTC)");
    }

    private sealed class SingleAssemblyContext(string name, string path) : AssemblyLoadContext(name)
    {
        protected override Assembly? Load(AssemblyName assemblyName) =>
            assemblyName.Name == "ControlPlane.SystemGraph" ? LoadFromAssemblyPath(path) : null;
    }
}

/// <summary>The two builds' batches of one row: each side's median per call, and per pair how the after batch compared.</summary>
internal sealed record PairedRow(IReadOnlyList<double> BeforeBatches, IReadOnlyList<double> AfterBatches)
{
    private readonly double[] _changes = [.. BeforeBatches.Zip(AfterBatches, (b, a) => (a / b) - 1).Order()];

    public double BeforeMicros => Median(BeforeBatches);

    public double AfterMicros => Median(AfterBatches);

    public double MedianChange => Quantile(_changes, 0.5);

    public double LowerQuartileChange => Quantile(_changes, 0.25);

    public double UpperQuartileChange => Quantile(_changes, 0.75);

    public int AfterFaster => _changes.Count(c => c < 0);

    public int Pairs => _changes.Length;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"before {Micros(BeforeMicros)}, after {Micros(AfterMicros)}; after against before per pair: median {MedianChange:+0.0%;-0.0%}, middle half {LowerQuartileChange:+0.0%;-0.0%} to {UpperQuartileChange:+0.0%;-0.0%}; after faster in {AfterFaster} of {Pairs} pairs");

    private static string Micros(double micros) => micros >= 1000
        ? string.Create(CultureInfo.InvariantCulture, $"{micros / 1000:0.00} ms")
        : string.Create(CultureInfo.InvariantCulture, $"{micros:0.###} µs");

    private static double Median(IReadOnlyList<double> values) => Quantile([.. values.Order()], 0.5);

    private static double Quantile(double[] sorted, double q)
    {
        var at = q * (sorted.Length - 1);
        var low = (int)Math.Floor(at);
        var high = Math.Min(low + 1, sorted.Length - 1);
        return sorted[low] + ((at - low) * (sorted[high] - sorted[low]));
    }
}

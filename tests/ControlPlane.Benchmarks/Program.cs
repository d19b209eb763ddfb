using BenchmarkDotNet.Running;

// One entry for every suite in this assembly: pick with --filter, e.g. --filter '*Dsse*'; "latency" times single
// blast-radius calls for their p99 instead; "tree-memory" prints what the evidence Merkle tree keeps in memory.
// Named through a benchmark type: referenced service projects bring their own public Program class.
if (args is ["latency", ..])
{
    ControlPlane.Benchmarks.Graph.ImpactLatency.Run();
    return;
}

if (args is ["tree-memory", ..])
{
    ControlPlane.Benchmarks.Evidence.MerkleTreeMemory.Run();
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(ControlPlane.Benchmarks.Contracts.CanonicalJsonBenchmarks).Assembly).Run(args);

using BenchmarkDotNet.Running;

// One entry for every suite in this assembly: pick with --filter, e.g. --filter '*Dsse*'; "latency" times single
// blast-radius calls for their p99 instead; "paired" times two builds of the blast radius side by side
// (eng/bench/paired.sh); "tree-memory" prints what the evidence Merkle tree keeps in memory.
// Named through a benchmark type: referenced service projects bring their own public Program class.
if (args is ["latency", ..])
{
    ControlPlane.Benchmarks.Graph.ImpactLatency.Run();
    return 0;
}

if (args is ["paired", ..])
{
    return ControlPlane.Benchmarks.Graph.ImpactPaired.Run(args);
}

if (args is ["tree-memory", ..])
{
    ControlPlane.Benchmarks.Evidence.MerkleTreeMemory.Run();
    return 0;
}

BenchmarkSwitcher.FromAssembly(typeof(ControlPlane.Benchmarks.Contracts.CanonicalJsonBenchmarks).Assembly).Run(args);
return 0;

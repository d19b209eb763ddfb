using BenchmarkDotNet.Running;

// One entry for every suite in this assembly: pick with --filter, e.g. --filter '*Dsse*'.
// Named through a benchmark type: referenced service projects bring their own public Program class.
BenchmarkSwitcher.FromAssembly(typeof(ControlPlane.Benchmarks.Contracts.CanonicalJsonBenchmarks).Assembly).Run(args);

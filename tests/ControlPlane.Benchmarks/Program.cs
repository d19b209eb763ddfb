using BenchmarkDotNet.Running;

// One entry for every suite in this assembly: pick with --filter, e.g. --filter '*Dsse*'.
// Named through a benchmark type, not Program: the referenced web services export a Program class of their own.
BenchmarkSwitcher.FromAssembly(typeof(ControlPlane.Benchmarks.Contracts.CanonicalJsonBenchmarks).Assembly).Run(args);

using BenchmarkDotNet.Running;

// One entry for every suite in this assembly: pick with --filter, e.g. --filter '*Dsse*'.
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);

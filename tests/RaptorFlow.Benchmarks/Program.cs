using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(RaptorFlow.Benchmarks.WebhookToLedgerBenchmark).Assembly).Run(args);

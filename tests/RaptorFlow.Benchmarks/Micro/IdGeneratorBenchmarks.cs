using BenchmarkDotNet.Attributes;
using RaptorFlow.Functions.Platform.Ids;

namespace RaptorFlow.Benchmarks.Micro;

/// <summary>Every row the app writes gets a prefixed, time-sortable id: its cost against a bare GUID.</summary>
[MemoryDiagnoser]
public class IdGeneratorBenchmarks
{
    private readonly IdGenerator _ids = new(TimeProvider.System);

    [Benchmark(Baseline = true)]
    public string Guid_N() => Guid.NewGuid().ToString("N");

    [Benchmark]
    public string Prefixed_sortable_id() => _ids.New("txn");

    [Benchmark]
    public bool Well_formed_check() => IdGenerator.IsWellFormed("org_01JG6Q4T5W8X2Y3Z4A5B6C7D8E", "org");
}

using System.Text;
using Azure.Data.Tables;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Microsoft.Extensions.DependencyInjection;
using RaptorFlow.Functions.Razorpay;
using RaptorFlow.Tests.Fixtures;
using RaptorFlow.Tests.Razorpay;

namespace RaptorFlow.Benchmarks;

/// <summary>
/// Sustained throughput of captured-payment webhooks through the whole path — signed HTTP ingest,
/// inbox row, queue, the standalone poller, ProcessRazorpayEvent, two ledger postings — compared
/// with the raw floor: the same entity-group transactions (two batches of six inserts per event)
/// submitted straight to the same Azurite in the same run. The Ratio column is the cost of the path
/// over the storage work it cannot avoid.
/// </summary>
[Config(typeof(Config))]
public class WebhookToLedgerBenchmark
{
    private const int EventsPerIteration = 64;

    /// <summary>In-process (the app and Azurite live in this process's fixtures), few long iterations.</summary>
    private sealed class Config : ManualConfig
    {
        public Config() => AddJob(Job.Dry
            .WithToolchain(new InProcessEmitToolchain(TimeSpan.FromMinutes(30), logOutput: true))
            .WithStrategy(RunStrategy.Monitoring)
            .WithLaunchCount(1)
            .WithWarmupCount(2)
            .WithIterationCount(10));
    }
    private const int Orgs = 8;

    private readonly KnownOrganizations _orgs = new();
    private TestApp _app = null!;
    private TableClient _raw = null!;
    private string[] _orgIds = [];

    [GlobalSetup]
    public async Task SetupAsync()
    {
        var settings = RazorpayTestKit.Settings();
        settings["Hosting:Standalone:MaxPollingInterval"] = "00:00:00.050";
        settings["Hosting:Standalone:BatchSize"] = "32";
        settings["Logging:LogLevel:Default"] = "Error";
        _app = await TestApp.StartAsync(settings, builder => builder.Services.AddSingleton<IKnownOrganizations>(_orgs));
        _orgIds = Enumerable.Range(0, Orgs).Select(_ => _orgs.Add()).ToArray();
        _raw = _app.Storage.Table("RawBaseline");
        await _raw.CreateIfNotExistsAsync();
    }

    [GlobalCleanup]
    public async Task CleanupAsync() => await _app.DisposeAsync();

    [Benchmark(Baseline = true, OperationsPerInvoke = EventsPerIteration)]
    public async Task RawEntityGroupTransactions()
    {
        await Parallel.ForEachAsync(Enumerable.Range(0, EventsPerIteration), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
        {
            var partition = _orgIds[i % Orgs];
            for (var batch = 0; batch < 2; batch++)
            {
                var prefix = Guid.NewGuid().ToString("N");
                var actions = Enumerable.Range(0, 6).Select(n => new TableTransactionAction(TableTransactionActionType.Add,
                    new TableEntity(partition, $"{prefix}|{n}") { ["Amount"] = 1000L, ["Account"] = "razorpay_clearing" }));
                await _raw.SubmitTransactionAsync(actions, ct);
            }
        });
    }

    [Benchmark(OperationsPerInvoke = EventsPerIteration)]
    public async Task WebhookIngestQueueAndLedger()
    {
        var ids = new string[EventsPerIteration];
        await Parallel.ForEachAsync(Enumerable.Range(0, EventsPerIteration), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
        {
            ids[i] = RazorpayTestKit.NewId("evt");
            var body = RazorpayTestKit.Captured(RazorpayTestKit.NewId("pay"), 10_000 + i, _orgIds[i % Orgs], fee: 236, tax: 36);
            using var response = await _app.DeliverAsync(body, ids[i]);
            response.EnsureSuccessStatusCode();
        });

        var inbox = _app.Services.GetRequiredService<RazorpayInbox>();
        var pending = new HashSet<string>(ids);
        while (pending.Count > 0)
        {
            foreach (var id in pending.ToArray())
            {
                if ((await inbox.GetAsync(id, default))?.Status is InboxStatus.Processed)
                {
                    pending.Remove(id);
                }
            }

            if (pending.Count > 0)
            {
                await Task.Delay(10);
            }
        }
    }
}

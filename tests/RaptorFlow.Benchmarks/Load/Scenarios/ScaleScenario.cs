using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using RaptorFlow.Functions.Ledger;
using RaptorFlow.Functions.Platform.Ids;

namespace RaptorFlow.Benchmarks.Load;

/// <summary>
/// Cost must not grow with data a request does not touch. At 1×, 10× and 100× data: posting latency
/// and the journal's first page (over HTTP) against the entries already in the org's ledger; <c>GET /me</c>
/// against the orgs in the system; <c>GET /orgs</c>' first page against the caller's collection.
/// Each point is the median of sequential samples; a curve is flat when 100× costs at most 1.5× of 1×.
/// </summary>
public sealed class ScaleScenario : ILoadScenario
{
    private static readonly int[] Multiples = [1, 10, 100];

    public string Name => "scale";

    public string Description => "latency at 1×/10×/100× data: postings vs ledger size, /me vs orgs, list first page vs collection";

    public async Task<JsonObject> RunAsync(LoadContext context)
    {
        var result = new JsonObject();
        var azurite = await context.AzuriteAsync();
        var storage = LedgerScenario.StorageFor(azurite);
        var ids = new IdGenerator(TimeProvider.System);
        var engine = new PostingEngine(storage, ids, TimeProvider.System, NullLogger<PostingEngine>.Instance);
        await storage.Table(LedgerKeys.TableName).CreateIfNotExistsAsync();

        await using var app = await context.StartAppAsync();
        var run = Guid.NewGuid().ToString("N")[..8];
        var caller = new AuthenticationHeaderValue("Bearer", await context.UserTokenAsync(app, $"bench-me-{run}"));
        var ledger = await context.CreateOrgAsync(app, caller.Parameter!, "Scale Bench Caller");

        // Postings go through the posting engine in this process, against the same Azurite: the
        // ledger's own cost as entries accumulate, without the queue's polling interval in the way.
        // The journal is read over HTTP, as a client reads it.
        var entries = 0;
        var posting = new Curve("posting latency vs ledger entries");
        var journal = new Curve("GET ledger/transactions first page vs ledger entries");
        var journalUri = new Uri(app.BaseAddress, $"/api/v1/orgs/{ledger}/ledger/transactions?limit=20");
        foreach (var multiple in Multiples)
        {
            var size = context.Options.LedgerBase * multiple;
            while (entries < size)
            {
                await PostAsync(engine, ledger, entries++);
            }

            posting.Add(multiple, entries, await SampleAsync(context.Options.Samples, () => PostAsync(engine, ledger, entries++)));
            journal.Add(multiple, entries, await SampleAsync(context.Options.Samples, () => GetAsync(context, journalUri, caller)));
        }

        result["postingVsLedgerEntries"] = posting.Print();
        result["journalFirstPageVsLedgerEntries"] = journal.Print();

        var bulkToken = await context.UserTokenAsync(app, $"bench-bulk-{run}");
        var bulk = new AuthenticationHeaderValue("Bearer", bulkToken);
        var me = new Curve("GET /me vs orgs in the system");
        var list = new Curve("GET /orgs first page vs the caller's orgs");
        var created = 0;
        foreach (var multiple in Multiples)
        {
            var size = context.Options.OrgsBase * multiple;
            var next = created - 1;
            await Task.WhenAll(Enumerable.Range(0, context.Options.Concurrency).Select(_ => Task.Run(async () =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < size)
                {
                    await context.CreateOrgAsync(app, bulkToken, $"Scale Bench {i}");
                }
            })));
            created = size;

            me.Add(multiple, created + 1, await SampleAsync(context.Options.Samples, () => GetAsync(context, new Uri(app.BaseAddress, "/api/v1/me"), caller)));
            list.Add(multiple, created, await SampleAsync(context.Options.Samples, () => GetAsync(context, new Uri(app.BaseAddress, "/api/v1/orgs?limit=20"), bulk)));
        }

        result["meVsOrgsInSystem"] = me.Print();
        result["orgsFirstPageVsCollection"] = list.Print();

        // Rollup time vs events is the usage scenario's curve (`load usage`).
        return result;
    }

    private static Task PostAsync(PostingEngine engine, string ledger, int n) =>
        engine.PostAsync(new PostingBatch(ledger, $"bench:{n}", $"Scale bench posting {n}",
        [
            PostingLine.Dr(ChartOfAccounts.RazorpayClearing, "INR", 10_000 + n),
            PostingLine.Cr(ChartOfAccounts.CustomerCredit, "INR", 10_000 + n),
        ]), CancellationToken.None);

    private static async Task GetAsync(LoadContext context, Uri uri, AuthenticationHeaderValue authorization)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        request.Headers.Authorization = authorization;
        using var response = await context.Http.SendAsync(request);
        await LoadContext.EnsureAsync(response, uri.PathAndQuery);
        await response.Content.LoadIntoBufferAsync();
    }

    private static async Task<Latency> SampleAsync(int samples, Func<Task> operation)
    {
        await operation();
        var times = new List<double>(samples);
        for (var i = 0; i < samples; i++)
        {
            var started = Stopwatch.GetTimestamp();
            await operation();
            times.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        return Latency.Of(times);
    }

    /// <summary>Latency at each data multiple; flat when the largest costs at most 1.5× the smallest.</summary>
    private sealed class Curve(string name)
    {
        private readonly List<(int Multiple, int Size, Latency Latency)> _points = [];

        public void Add(int multiple, int size, Latency latency) => _points.Add((multiple, size, latency));

        public JsonObject Print()
        {
            Console.WriteLine($"  {name}:");
            foreach (var (multiple, size, latency) in _points)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    {multiple,4}× ({size,6}) {latency}"));
            }

            var growth = Target.AtMost($"{name}, p50 at 100× / 1×", _points[^1].Latency.P50 / _points[0].Latency.P50, 1.5);
            return new JsonObject
            {
                ["points"] = new JsonArray(_points.Select(p => (JsonNode)new JsonObject
                {
                    ["multiple"] = p.Multiple,
                    ["size"] = p.Size,
                    ["latencyMs"] = p.Latency.ToJson(),
                }).ToArray()),
                ["flat"] = growth.Print(),
            };
        }
    }
}

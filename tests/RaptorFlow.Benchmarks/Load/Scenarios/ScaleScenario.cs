using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging.Abstractions;
using RaptorFlow.Functions.Ledger;
using RaptorFlow.Functions.Organizations;
using RaptorFlow.Functions.Platform.Ids;
using RaptorFlow.Functions.Razorpay;

namespace RaptorFlow.Benchmarks.Load;

/// <summary>
/// Cost must not grow with data a request does not touch. At 1×, 10× and 100× data: posting latency
/// and the journal's first page (over HTTP) against the entries already in the org's ledger; <c>GET /me</c>
/// against the orgs in the system; <c>GET /orgs</c>' first page against the caller's collection.
/// Where the three sizes can exist side by side (three ledgers, three callers' collections) they are
/// built first and sampled in turn, one sample of each size after another, so a busy moment of the
/// machine weighs on every size alike; the orgs in the system only grow, so <c>GET /me</c> is sampled
/// after each growth step, and so do the settled events in the webhook inbox, against which the
/// inbox sweeper is sampled. A curve is flat when the median at 100× is at most 1.5× the median at 1×.
/// </summary>
public sealed class ScaleScenario : ILoadScenario
{
    private static readonly int[] Multiples = [1, 10, 100];

    public string Name => "scale";

    public string Description => "latency at 1×/10×/100× data: postings vs ledger size, /me vs orgs, list first page vs collection, inbox sweep vs settled events";

    public async Task<JsonObject> RunAsync(LoadContext context)
    {
        var options = context.Options;
        var result = new JsonObject();
        var azurite = await context.AzuriteAsync();
        var storage = LedgerScenario.StorageFor(azurite);
        var ids = new IdGenerator(TimeProvider.System);
        var engine = new PostingEngine(storage, ids, TimeProvider.System, NullLogger<PostingEngine>.Instance);
        await storage.Table(LedgerKeys.TableName).CreateIfNotExistsAsync();

        await using var app = await context.StartAppAsync();
        var run = Guid.NewGuid().ToString("N")[..8];
        var callerId = $"bench-me-{run}";
        var callerToken = await context.UserTokenAsync(app, callerId);
        var caller = new AuthenticationHeaderValue("Bearer", callerToken);

        // Three ledgers of 1×, 10× and 100× entries, filled side by side. Postings go through the
        // posting engine in this process, against the same Azurite: the ledger's own cost as entries
        // accumulate, without the queue's polling interval in the way. The journal is read over HTTP.
        var ledgers = new Ledger[Multiples.Length];
        for (var i = 0; i < Multiples.Length; i++)
        {
            ledgers[i] = new Ledger(await context.CreateOrgAsync(app, callerToken, $"Scale Bench Ledger {Multiples[i]}x"), options.LedgerBase * Multiples[i]);
        }

        await Task.WhenAll(ledgers.Select(async ledger =>
        {
            while (ledger.Entries < ledger.Target)
            {
                await ledger.PostAsync(engine);
            }
        }));

        var posting = new Curve("posting latency vs ledger entries");
        var journal = new Curve("GET ledger/transactions first page vs ledger entries");
        var sizes = ledgers.Select(l => l.Entries).ToArray();
        var postingTimes = await SampleInTurnAsync(options.Samples, ledgers.Select(l => (Func<Task>)(() => l.PostAsync(engine))).ToArray());
        var journalTimes = await SampleInTurnAsync(options.Samples, ledgers.Select(l => (Func<Task>)(() =>
            GetAsync(context, new Uri(app.BaseAddress, $"/api/v1/orgs/{l.OrgId}/ledger/transactions?limit={PageLimit(options.LedgerBase)}"), caller))).ToArray());
        for (var i = 0; i < Multiples.Length; i++)
        {
            posting.Add(Multiples[i], sizes[i], postingTimes[i]);
            journal.Add(Multiples[i], sizes[i], journalTimes[i]);
        }

        result["postingVsLedgerEntries"] = posting.Print();
        result["journalFirstPageVsLedgerEntries"] = journal.Print();

        // Three collectors of 1×, 10× and 100× orgs; building them grows the orgs in the system,
        // and GET /me of the caller (whose own orgs stay the three ledgers) is sampled after each step.
        var me = new Curve("GET /me vs orgs in the system");

        // The storage half of GET /me, straight to Azurite: the caller's index partition. An emulator
        // that scans the whole table for a partition query shows here, apart from the app's own cost.
        var meIndex = new Curve("raw UserOrgs partition query (the index read of /me) vs orgs in the system");
        var userOrgs = new TableClient(azurite.ConnectionString, UserOrgRow.TableName);
        var indexFilter = TableClient.CreateQueryFilter($"PartitionKey eq {callerId}");
        var collectors = new AuthenticationHeaderValue[Multiples.Length];
        var orgsInSystem = ledgers.Length;
        for (var i = 0; i < Multiples.Length; i++)
        {
            var token = await context.UserTokenAsync(app, $"bench-bulk-{Multiples[i]}-{run}");
            collectors[i] = new AuthenticationHeaderValue("Bearer", token);
            var size = options.OrgsBase * Multiples[i];
            await CreateOrgsAsync(context, app, token, size, options.Concurrency);
            orgsInSystem += size;
            var times = await SampleInTurnAsync(options.Samples,
            [
                () => GetAsync(context, new Uri(app.BaseAddress, "/api/v1/me"), caller),
                async () =>
                {
                    await foreach (var page in userOrgs.QueryAsync<TableEntity>(indexFilter, maxPerPage: 100).AsPages())
                    {
                        break;
                    }
                },
            ]);
            me.Add(Multiples[i], orgsInSystem, times[0]);
            meIndex.Add(Multiples[i], orgsInSystem, times[1]);
        }

        var list = new Curve("GET /orgs first page vs the caller's orgs");
        var listTimes = await SampleInTurnAsync(options.Samples, collectors.Select(c => (Func<Task>)(() =>
            GetAsync(context, new Uri(app.BaseAddress, $"/api/v1/orgs?limit={PageLimit(options.OrgsBase)}"), c))).ToArray());
        for (var i = 0; i < Multiples.Length; i++)
        {
            list.Add(Multiples[i], options.OrgsBase * Multiples[i], listTimes[i]);
        }

        result["meVsOrgsInSystem"] = me.Print();
        result["userOrgsIndexQueryVsOrgsInSystem"] = meIndex.Print();
        result["orgsFirstPageVsCollection"] = list.Print();

        await SweepCurvesAsync(storage, options, run, result);

        // Rollup time vs events is the usage scenario's curve (`load usage`).
        return result;
    }

    /// <summary>Unsettled webhook events, received recently: every sweep finds them in the index and none is due yet, as on most runs.</summary>
    private const int UnsettledEvents = 10;

    /// <summary>
    /// The inbox sweeper (SweepWebhookInbox's whole run, as every 5 minutes when nothing is overdue)
    /// against the settled events in the inbox, with the same unsettled events at every point, beside
    /// the scan of the inbox the sweeper made before it read the index partition (for contrast; that
    /// one grows with the history).
    /// </summary>
    private static async Task SweepCurvesAsync(RaptorFlow.Functions.Platform.Storage.StorageAccount storage, LoadOptions options, string run, JsonObject result)
    {
        var table = storage.Table(InboxKeys.TableName);
        await table.CreateIfNotExistsAsync();
        var queue = storage.Queue($"bench-sweep-{run}");
        await queue.CreateIfNotExistsAsync();
        var inbox = new RazorpayInbox(storage, new RazorpayEventsQueue(queue.Name), new RazorpayInboxTable(InboxKeys.TableName), TimeProvider.System, NullLogger<RazorpayInbox>.Instance);
        var body = "{\"event\":\"payment.captured\",\"payload\":{}}"u8.ToArray();
        for (var i = 0; i < UnsettledEvents; i++)
        {
            await inbox.StoreAsync($"bench-unsettled-{run}-{i}", "payment.captured", body, "bench", CancellationToken.None);
        }

        var sweep = new Curve("SweepWebhookInbox vs settled events in the inbox");
        var scan = new Curve("the inbox scan the sweeper made before the index (contrast) vs settled events", expectFlat: false);
        var oldFilter = TableClient.CreateQueryFilter($"Status eq {"received"} and EnqueuedAt lt {DateTimeOffset.UtcNow.AddHours(-1)}");
        var settled = 0;
        foreach (var multiple in Multiples)
        {
            var target = options.InboxBase * multiple;
            var next = settled - 1;
            await Task.WhenAll(Enumerable.Range(0, options.Concurrency).Select(_ => Task.Run(async () =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < target)
                {
                    // A processed event as the inbox keeps it once settled: its own row, nothing in the index.
                    await table.AddEntityAsync(new TableEntity($"bench-settled-{run}-{i}", "event")
                    {
                        ["Event"] = "payment.captured",
                        ["Status"] = "processed",
                        ["ReceivedAt"] = DateTimeOffset.UtcNow,
                        ["EnqueuedAt"] = DateTimeOffset.UtcNow,
                        ["ProcessedAt"] = DateTimeOffset.UtcNow,
                        ["Body"] = body,
                        ["BodySha256"] = "bench",
                    });
                }
            })));
            settled = target;
            var times = await SampleInTurnAsync(options.Samples,
            [
                () => inbox.SweepAsync(TimeSpan.FromHours(1), CancellationToken.None),
                async () =>
                {
                    await foreach (var row in table.QueryAsync<TableEntity>(oldFilter, select: ["PartitionKey"]))
                    {
                    }
                },
            ]);
            sweep.Add(multiple, settled, times[0]);
            scan.Add(multiple, settled, times[1]);
        }

        result["sweepVsSettledEvents"] = sweep.Print();
        result["inboxScanVsSettledEvents"] = scan.Print();
        await queue.DeleteIfExistsAsync();
    }

    private sealed class Ledger(string orgId, int target)
    {
        public string OrgId { get; } = orgId;
        public int Target { get; } = target;
        public int Entries { get; private set; }

        public async Task PostAsync(PostingEngine engine)
        {
            var n = Entries;
            await engine.PostAsync(new PostingBatch(OrgId, $"bench:{n}", $"Scale bench posting {n}",
            [
                PostingLine.Dr(ChartOfAccounts.RazorpayClearing, "INR", 10_000 + n),
                PostingLine.Cr(ChartOfAccounts.CustomerCredit, "INR", 10_000 + n),
            ]), CancellationToken.None);
            Entries = n + 1;
        }
    }

    private static async Task CreateOrgsAsync(LoadContext context, AppProcess app, string token, int count, int concurrency)
    {
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                await context.CreateOrgAsync(app, token, $"Scale Bench {i}");
            }
        })));
    }

    private static async Task GetAsync(LoadContext context, Uri uri, AuthenticationHeaderValue authorization)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        request.Headers.Authorization = authorization;
        using var response = await context.Http.SendAsync(request);
        await LoadContext.EnsureAsync(response, uri.PathAndQuery);
        await response.Content.LoadIntoBufferAsync();
    }

    /// <summary>A page no larger than the 1× collection, so every point of a list curve returns a full page.</summary>
    private static int PageLimit(int baseSize) => Math.Min(20, baseSize);

    /// <summary>One unmeasured call of each, then <paramref name="samples"/> rounds of one timed call of each in turn.</summary>
    private static async Task<Latency[]> SampleInTurnAsync(int samples, Func<Task>[] operations)
    {
        foreach (var operation in operations)
        {
            await operation();
        }

        var times = operations.Select(_ => new List<double>(samples)).ToArray();
        for (var round = 0; round < samples; round++)
        {
            for (var i = 0; i < operations.Length; i++)
            {
                var started = Stopwatch.GetTimestamp();
                await operations[i]();
                times[i].Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        }

        return [.. times.Select(Latency.Of)];
    }

    /// <summary>Latency at each data multiple; flat when the largest costs at most 1.5× the smallest.</summary>
    private sealed class Curve(string name, bool expectFlat = true)
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

            var ratio = _points[^1].Latency.P50 / _points[0].Latency.P50;
            if (!expectFlat)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  => {name}, p50 at 100× / 1×: {ratio:F2}× (no target)"));
            }

            var growth = expectFlat ? Target.AtMost($"{name}, p50 at 100× / 1×", ratio, 1.5).Print() : new JsonObject { ["value"] = Math.Round(ratio, 3) };
            return new JsonObject
            {
                ["points"] = new JsonArray(_points.Select(p => (JsonNode)new JsonObject
                {
                    ["multiple"] = p.Multiple,
                    ["size"] = p.Size,
                    ["latencyMs"] = p.Latency.ToJson(),
                }).ToArray()),
                [expectFlat ? "flat" : "growth"] = growth,
            };
        }
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging.Abstractions;
using RaptorFlow.Functions.Hosting;
using RaptorFlow.Functions.Invoices;
using RaptorFlow.Functions.Organizations;
using RaptorFlow.Functions.Plans;
using RaptorFlow.Functions.Platform.Ids;
using RaptorFlow.Functions.Usage;
using StorageAccount = RaptorFlow.Functions.Platform.Storage.StorageAccount;

namespace RaptorFlow.Benchmarks.Load;

/// <summary>
/// The month-end close at scale (issue 17). For each size N (<c>--invoice-orgs</c>) and each instance
/// count k (<c>--instances</c>), on an Azurite of the point's own (so memory follows the largest point, not
/// the sum, and no point scans an earlier one's rows): N fresh orgs are seeded straight into it in batches
/// (org row, a Pro plan from before the month, the month's usage totals, the billing index row), k app processes share that
/// storage with only the CloseOrgPeriod queue running, <c>POST /GenerateInvoices</c> is invoked on one of
/// them as the host invokes the timer, and the time runs until the month's index partition is empty
/// (every close settled). Each close prices the invoice, takes its number, posts it in the org's
/// ledger and attaches a payment link (a loopback stand-in for Razorpay). Checked after each run: every
/// org invoiced exactly once, and the series' numbers gap-free. Time per org should stay flat with N.
/// <para>Numbering on its own: one fresh series, numbers taken through <see cref="InvoiceNumbering"/>
/// by 1, 4 and 16 concurrent takers: numbers/s against the closes/s above.</para>
/// </summary>
public sealed class InvoicesScenario : ILoadScenario
{
    private const int SeedConcurrency = 16;
    private const int SeedBatch = 1_000;
    private const int NumbersPerTaker = 50;
    private static readonly int[] Takers = [1, 4, 16];
    private static readonly TimeSpan PollingInterval = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan ProgressEvery = TimeSpan.FromSeconds(30);

    /// <summary>A close run fails when no org has been closed for this long (the run itself may take hours at 100,000 orgs).</summary>
    private static readonly TimeSpan StallTimeout = TimeSpan.FromMinutes(10);

    public string Name => "invoices";

    public string Description => "month-end close of N seeded orgs by 1/2/4 instances: ms per org vs N, once each, gap-free numbers; numbering throughput";

    public async Task<JsonObject> RunAsync(LoadContext context)
    {
        var options = context.Options;
        var storage = LedgerScenario.StorageFor(await context.AzuriteAsync());
        await storage.Table(InvoiceNumbering.TableName).CreateIfNotExistsAsync();
        var now = DateTimeOffset.UtcNow;
        var (period, _) = InvoiceIssuer.LastClosedPeriod(now);

        await using var razorpay = await RazorpayLinkStub.StartAsync();
        var settings = context.OnlyTriggers(PollingInterval, CloseOrgPeriod.FunctionName);
        settings["Razorpay__BaseUrl"] = razorpay.BaseUrl.ToString();
        settings["Razorpay__KeyId"] = "rzp_test_bench";
        settings["Razorpay__KeySecret"] = "bench-" + Guid.NewGuid().ToString("N");

        var numbering = new InvoiceNumbering(storage, NullLogger<InvoiceNumbering>.Instance);
        var financialYear = FinancialYear.Of(now);
        var run = Guid.NewGuid().ToString("N")[..6];
        var points = new List<ClosePoint>();
        // Enqueuing 100,000 closes is one invocation of GenerateInvoices.
        using var invoker = new HttpClient { Timeout = TimeSpan.FromMinutes(60) };
        foreach (var size in options.InvoiceOrgs)
        {
            foreach (var instances in options.Instances)
            {
                await using var azurite = await LocalAzurite.StartAsync(context.RepositoryRoot, heapMiB: AzuriteHeapMiB(size));
                var pointStorage = LedgerScenario.StorageFor(azurite);
                await PrepareAsync(pointStorage, now);
                var seeded = Stopwatch.StartNew();
                var orgs = await SeedAsync(pointStorage, $"{run}n{size}i{instances}", size, period);
                seeded.Stop();

                var apps = new List<AppProcess>();
                try
                {
                    foreach (var _ in Enumerable.Range(0, instances))
                    {
                        apps.Add(await context.StartAppAsync(azurite, settings));
                    }

                    var load = Machine.LoadAverage();
                    var emptyQuery = await LocalAzurite.EmptyPartitionQueryAsync(pointStorage.Table(InvoiceKeys.TableName));
                    var elapsed = await CloseMonthAsync(invoker, apps, pointStorage.Table(BillingIndex.TableName), period, razorpay, size);
                    // The point's storage holds this point's series only: N numbers, one per org, 1..N.
                    var taken = await new InvoiceNumbering(pointStorage, NullLogger<InvoiceNumbering>.Instance).TakenAsync("RF", financialYear, CancellationToken.None);
                    var perOrg = taken.Where(t => orgs.Contains(t.OrgId)).GroupBy(t => t.OrgId).ToList();
                    var onceEach = perOrg.Count == orgs.Count && perOrg.All(g => g.Count() == 1);
                    var gapFree = taken.Select(t => t.Sequence).Order().Select((s, i) => s == i + 1).All(b => b);
                    var point = new ClosePoint(size, instances, elapsed.TotalSeconds, seeded.Elapsed.TotalSeconds, onceEach, gapFree, taken.Count, load,
                        apps.Select(a => a.PeakWorkingSetMiB ?? 0).Max(), emptyQuery.TotalMilliseconds);
                    points.Add(point);
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"    {size,7:N0} orgs, {instances} instance(s): {point.Seconds,8:F1} s = {point.MillisecondsPerOrg,6:F2} ms/org ({point.OrgsPerSecond:F0} orgs/s)" +
                        $"  once each: {onceEach}, gap-free: {gapFree} ({taken.Count} numbers); empty-partition query of Invoices {point.EmptyQueryMs:F2} ms; seeded in {point.SeedSeconds:F1} s; peak {point.PeakWorkingSetMiB:F0} MiB; load {load}"));
                }
                finally
                {
                    foreach (var app in apps)
                    {
                        await app.DisposeAsync();
                    }
                }
            }
        }

        // Numbering alone: how fast one series gives out numbers when 1, 4, 16 takers race for its counter.
        var numberingPoints = new JsonArray();
        foreach (var takers in Takers)
        {
            var series = $"BENCH{run}T{takers}";
            var watch = Stopwatch.StartNew();
            await Parallel.ForEachAsync(Enumerable.Range(0, takers * NumbersPerTaker), new ParallelOptions { MaxDegreeOfParallelism = takers }, async (i, ct) =>
                await numbering.NumberAsync(series, financialYear, $"bill_{run}_{takers}_{i}", "org_bench", ct));
            var perSecond = takers * NumbersPerTaker / watch.Elapsed.TotalSeconds;
            var gapFree = (await numbering.TakenAsync(series, financialYear, CancellationToken.None)).Select(t => t.Sequence).Order().Select((s, i) => s == i + 1).All(b => b);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"    numbering, {takers,2} concurrent taker(s): {perSecond,7:F0} numbers/s (gap-free: {gapFree}; load {Machine.LoadAverage()})"));
            numberingPoints.Add(new JsonObject { ["takers"] = takers, ["numbersPerSecond"] = Math.Round(perSecond, 1), ["gapFree"] = gapFree });
        }

        var flat = new JsonArray();
        foreach (var instances in options.Instances)
        {
            var line = points.Where(p => p.Instances == instances).OrderBy(p => p.Orgs).ToList();
            if (line.Count >= 2)
            {
                var target = Target.AtMost($"ms per org at {line[^1].Orgs:N0} / {line[0].Orgs:N0} orgs, {instances} instance(s)", line[^1].MillisecondsPerOrg / line[0].MillisecondsPerOrg, 1.5);
                flat.Add(target.Print());
            }
        }

        var chart = SvgChart.WriteIf(options.Save, context.RepositoryRoot, "bench-invoices.svg", new SvgChart.Spec(
            "Month-end close: time per org against orgs closed",
            "orgs closed", "ms per org",
            [.. options.Instances.Select(k => new SvgChart.Line($"{k} instance{(k == 1 ? "" : "s")}",
                [.. points.Where(p => p.Instances == k).OrderBy(p => p.Orgs).Select(p => ((double)p.Orgs, p.MillisecondsPerOrg))]))],
            GoalBand(points),
            LogX: true,
            GoalLabel: "≤ 1.5× smallest N"));

        return new JsonObject
        {
            ["period"] = period.ToString("yyyy-MM", CultureInfo.InvariantCulture),
            ["points"] = new JsonArray([.. points.Select(p => (JsonNode)p.ToJson())]),
            ["perOrgFlat"] = flat,
            ["onceEach"] = points.All(p => p.OnceEach),
            ["gapFree"] = points.All(p => p.GapFree),
            ["numbering"] = numberingPoints,
            ["chart"] = chart,
        };
    }

    /// <summary>The goal as a band: from the smallest size's best time per org up to 1.5× of it.</summary>
    private static (double Low, double High)? GoalBand(List<ClosePoint> points)
    {
        if (points.Count == 0)
        {
            return null;
        }

        var smallest = points.Min(p => p.Orgs);
        var best = points.Where(p => p.Orgs == smallest).Min(p => p.MillisecondsPerOrg);
        return (best, best * 1.5);
    }

    /// <summary>Azurite holds every row in Node's heap: about 4 GiB by default here, and some 30 rows per org closed.</summary>
    private static int AzuriteHeapMiB(int orgs) => 4_096 + (orgs / 10);

    /// <summary>The tables the seeding writes, and the one-off index backfill (which reads every org row) marked done: the index holds every seeded org.</summary>
    private static async Task PrepareAsync(StorageAccount storage, DateTimeOffset now)
    {
        foreach (var table in new[] { OrgTable.Name, SubscriptionRow.TableName, UsageTotalRow.TableName, BillingIndex.TableName, InvoiceNumbering.TableName })
        {
            await storage.Table(table).CreateIfNotExistsAsync();
        }

        await storage.Table(BillingIndex.TableName).UpsertEntityAsync(new BillingIndexRow { PartitionKey = "backfill", RowKey = "orgs", AddedAt = now });
    }

    /// <summary>
    /// The timer invoked on the first instance, then the wait until the month's index partition is empty,
    /// printing how many orgs are closed (payment links created) every <see cref="ProgressEvery"/>.
    /// </summary>
    private static async Task<TimeSpan> CloseMonthAsync(HttpClient invoker, List<AppProcess> apps, TableClient index, DateTimeOffset period, RazorpayLinkStub razorpay, int size)
    {
        var linksBefore = razorpay.Links;
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(apps[0].BaseAddress, "/" + GenerateInvoices.FunctionName))
        {
            Content = new StringContent("""{"Data":{"timer":{"Schedule":{"AdjustForDST":true},"IsPastDue":false}},"Metadata":{}}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("x-ms-invocation-id", Guid.NewGuid().ToString());
        var started = Stopwatch.GetTimestamp();
        using (var response = await invoker.SendAsync(request))
        {
            var body = await response.Content.ReadAsStringAsync();
            if (response.StatusCode != HttpStatusCode.OK || body != FunctionInvocationApi.SuccessBody)
            {
                throw new InvalidOperationException($"GenerateInvoices answered {(int)response.StatusCode}: {body} {apps[0].RecentErrors()}");
            }
        }

        var partition = BillingIndex.PeriodPartition(period);
        var (progressed, lastSeen, reported) = (Stopwatch.GetTimestamp(), linksBefore, Stopwatch.GetTimestamp());
        while (await LocalAzurite.AnyInPartitionAsync(index, partition))
        {
            var links = razorpay.Links;
            if (links != lastSeen)
            {
                (progressed, lastSeen) = (Stopwatch.GetTimestamp(), links);
            }
            else if (Stopwatch.GetElapsedTime(progressed) > StallTimeout)
            {
                throw new TimeoutException($"No org was closed for {StallTimeout} ({links - linksBefore:N0} of {size:N0} closed): {string.Join('\n', apps.Select(a => a.RecentErrors()))}");
            }

            if (Stopwatch.GetElapsedTime(reported) >= ProgressEvery)
            {
                reported = Stopwatch.GetTimestamp();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"      closed {links - linksBefore:N0} of {size:N0} orgs after {Stopwatch.GetElapsedTime(started).TotalSeconds:F0} s (load {Machine.LoadAverage()})"));
            }

            await Task.Delay(PollingInterval);
        }

        return Stopwatch.GetElapsedTime(started);
    }

    /// <summary>
    /// <paramref name="count"/> orgs created ten days before the month, each on the Pro plan since then, with
    /// the month's API calls (over the included quantity, so a usage line is priced) and its index row. The org,
    /// plan and usage rows are one request each (each its own partition); the index rows go 100 to a transaction.
    /// Seeded <see cref="SeedBatch"/> orgs at a time, with progress printed; only the ids are kept (for the checks).
    /// </summary>
    private static async Task<HashSet<string>> SeedAsync(StorageAccount storage, string tag, int count, DateTimeOffset period)
    {
        var orgs = new HashSet<string>(count, StringComparer.Ordinal);
        var (started, reported) = (Stopwatch.GetTimestamp(), Stopwatch.GetTimestamp());
        while (orgs.Count < count)
        {
            // Well-formed ids (the app ignores any other as not its own), new for every run.
            var batch = Enumerable.Range(0, Math.Min(SeedBatch, count - orgs.Count)).Select(_ => "org_" + IdGenerator.NewSortableId(DateTimeOffset.UtcNow)).ToArray();
            await SeedBatchAsync(storage, tag, batch, period);
            orgs.UnionWith(batch);
            if (Stopwatch.GetElapsedTime(reported) >= ProgressEvery)
            {
                reported = Stopwatch.GetTimestamp();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"      seeded {orgs.Count:N0} of {count:N0} orgs after {Stopwatch.GetElapsedTime(started).TotalSeconds:F0} s (load {Machine.LoadAverage()})"));
            }
        }

        return orgs;
    }

    private static async Task SeedBatchAsync(StorageAccount storage, string tag, string[] orgs, DateTimeOffset period)
    {
        var created = period.AddDays(-10);
        var (orgTable, plans, totals, index) = (storage.Table(OrgTable.Name), storage.Table(SubscriptionRow.TableName), storage.Table(UsageTotalRow.TableName), storage.Table(BillingIndex.TableName));
        await Parallel.ForEachAsync(orgs, new ParallelOptions { MaxDegreeOfParallelism = SeedConcurrency }, async (orgId, ct) =>
        {
            await orgTable.UpsertEntityAsync(new OrgRow
            {
                PartitionKey = orgId,
                Name = $"Invoice Bench {tag}",
                Slug = orgId.Replace('_', '-'),
                CreatedBy = "bench",
                CreatedAt = created,
                UpdatedAt = created,
                OwnerCount = 1,
            }, TableUpdateMode.Replace, ct);
            await plans.UpsertEntityAsync(new PlanChangeRow
            {
                PartitionKey = orgId,
                RowKey = PlanChangeRow.Key(created),
                EffectiveFrom = created,
                PlanId = "pro",
                ChangedBy = "bench",
            }, TableUpdateMode.Replace, ct);
            await totals.UpsertEntityAsync(new UsageTotalRow
            {
                PartitionKey = orgId,
                RowKey = UsageKeys.TotalRowKey(UsageGranularity.Month, period, Meters.ApiCalls),
                Granularity = UsageKeys.Prefix(UsageGranularity.Month),
                Meter = Meters.ApiCalls,
                PeriodStart = period,
                Quantity = 1_250_000,
                ComputedAt = period.AddMonths(1),
            }, TableUpdateMode.Replace, ct);
        });
        await Parallel.ForEachAsync(orgs.Chunk(100), new ParallelOptions { MaxDegreeOfParallelism = SeedConcurrency }, async (chunk, ct) =>
            await index.SubmitTransactionAsync(chunk.Select(orgId => new TableTransactionAction(TableTransactionActionType.UpsertReplace,
                new BillingIndexRow { PartitionKey = BillingIndex.PeriodPartition(period), RowKey = orgId, AddedAt = created })), ct));
    }

    private sealed record ClosePoint(int Orgs, int Instances, double Seconds, double SeedSeconds, bool OnceEach, bool GapFree, int NumbersInSeries, string Load, double PeakWorkingSetMiB, double EmptyQueryMs)
    {
        public double MillisecondsPerOrg => Seconds * 1000 / Orgs;

        public double OrgsPerSecond => Orgs / Seconds;

        public JsonObject ToJson() => new()
        {
            ["orgs"] = Orgs,
            ["instances"] = Instances,
            ["seconds"] = Math.Round(Seconds, 2),
            ["msPerOrg"] = Math.Round(MillisecondsPerOrg, 3),
            ["orgsPerSecond"] = Math.Round(OrgsPerSecond, 1),
            ["seedSeconds"] = Math.Round(SeedSeconds, 1),
            ["onceEach"] = OnceEach,
            ["gapFree"] = GapFree,
            ["numbersInSeries"] = NumbersInSeries,
            ["peakWorkingSetMiBPerInstance"] = Math.Round(PeakWorkingSetMiB, 1),
            ["emptyPartitionQueryMs"] = Math.Round(EmptyQueryMs, 3),
            ["loadAverage"] = Load,
        };
    }
}

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Storage.Queues;
using RaptorFlow.Tests.Webhooks;

namespace RaptorFlow.Benchmarks.Load;

/// <summary>
/// Outbound webhooks, change → delivered at a Kestrel receiver inside the driver (loopback):
/// (a) deliveries/s and p50/p99 change→delivery latency, <c>--concurrency</c> orgs with one endpoint
/// each in closed loop, against the same number of raw Azurite queue messages sent and received
/// (send, receive, delete, one queue per client) at the same concurrency, in alternating rounds;
/// (b) cost as endpoints per org grow (1, 10, 100): delivery time per event per endpoint. Every
/// delivery is checked afterwards with the StandardWebhooks reference library's signing, and
/// counted by (endpoint, webhook-id): 0 lost, duplicates reported.
/// </summary>
public sealed class WebhooksScenario : ILoadScenario
{
    /// <summary>
    /// The change whose event is measured: renaming the org, whose <c>org.updated</c> goes through
    /// the event outbox, the dispatch queue, the fan-out and the delivery queue to every endpoint.
    /// <see cref="Changes.PingEveryEndpoint"/> (a ping sent inside the request) measures delivery alone.
    /// </summary>
    private static readonly Change Measured = Changes.RenameOrg;

    private static readonly int[] EndpointCounts = [1, 10, 100];
    private const int Rounds = 5;
    private const int WarmupChanges = 3;
    private static readonly TimeSpan DeliveryWait = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan MaxRun = TimeSpan.FromMinutes(6);
    private const int MaxRawReceives = 1_000;

    public string Name => "webhooks";

    public string Description => "change → signed webhook at a local receiver: deliveries/s and p50/p99 vs raw queue messages; cost per endpoint at 1, 10, 100 endpoints per org";

    /// <summary>Makes one change in <paramref name="org"/>; answers how many of its API calls failed.</summary>
    public delegate Task<int> Change(LoadContext context, AppProcess app, BenchOrg org, int parallelism, CancellationToken cancellationToken);

    public sealed record BenchEndpoint(string Id, string Secret, string Path);

    /// <summary>An org of the run, its endpoints, and the arrivals of its current change.</summary>
    public sealed class BenchOrg(int index, string id, string token)
    {
        public int Index { get; } = index;
        public string Id { get; } = id;
        public string Token { get; } = token;
        public List<BenchEndpoint> Endpoints { get; } = [];
        public SemaphoreSlim Arrived { get; } = new(0);
        public ConcurrentQueue<long> Arrivals { get; } = new();
    }

    /// <summary>Changes that emit an event for every endpoint of an org.</summary>
    public static class Changes
    {
        public static async Task<int> PingEveryEndpoint(LoadContext context, AppProcess app, BenchOrg org, int parallelism, CancellationToken cancellationToken)
        {
            var failed = 0;
            await Parallel.ForEachAsync(org.Endpoints, new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken }, async (endpoint, ct) =>
            {
                using var response = await SendAsync(context, app, org, HttpMethod.Post, $"/api/v1/orgs/{org.Id}/webhook-endpoints/{endpoint.Id}/test", null, ct);
                if (!response.IsSuccessStatusCode)
                {
                    Interlocked.Increment(ref failed);
                }
            });
            return failed;
        }

        /// <summary><c>PATCH /api/v1/orgs/{orgId}</c> with a new name: one <c>org.updated</c> for every endpoint.</summary>
        public static async Task<int> RenameOrg(LoadContext context, AppProcess app, BenchOrg org, int parallelism, CancellationToken cancellationToken)
        {
            using var response = await SendAsync(context, app, org, HttpMethod.Patch, $"/api/v1/orgs/{org.Id}",
                new { name = "Webhook Bench " + Guid.NewGuid().ToString("N")[..8] }, cancellationToken);
            return response.IsSuccessStatusCode ? 0 : 1;
        }
    }

    public async Task<JsonObject> RunAsync(LoadContext context)
    {
        var options = context.Options;
        var azurite = await context.AzuriteAsync();
        var run = Guid.NewGuid().ToString("N")[..8];
        await using var receiver = await WebhookReceiver.StartAsync();
        var orgs = new ConcurrentDictionary<int, BenchOrg>();
        var seen = new ConcurrentDictionary<string, bool>(StringComparer.Ordinal);
        long duplicates = 0, strays = 0;
        receiver.Respond = received =>
        {
            var now = Stopwatch.GetTimestamp();
            // Paths are /w/{org}/{endpoint}; the first copy of an (endpoint, webhook-id) counts.
            var parts = received.Path.Split('/', StringSplitOptions.RemoveEmptyEntries);
            if (parts is not ["w", var orgText, _] || !orgs.TryGetValue(int.Parse(orgText, CultureInfo.InvariantCulture), out var org))
            {
                Interlocked.Increment(ref strays);
            }
            else if (seen.TryAdd(received.Path + "|" + received.Id, true))
            {
                org.Arrivals.Enqueue(now);
                org.Arrived.Release();
            }
            else
            {
                Interlocked.Increment(ref duplicates);
            }

            return (204, null, null);
        };

        await using var app = await context.StartAppAsync(azurite, new Dictionary<string, string>
        {
            ["Webhooks__AllowPrivateNetworks"] = "true",
            ["Webhooks__DefaultRateLimitPerSecond"] = WebhookRateLimit,
        });
        var token = await context.UserTokenAsync(app, "bench-webhooks-" + run);

        async Task<BenchOrg> NewOrgAsync(int endpoints)
        {
            var org = new BenchOrg(orgs.Count, await context.CreateOrgAsync(app, token, $"Webhook Bench {orgs.Count}"), token);
            orgs[org.Index] = org;
            for (var e = 0; e < endpoints; e++)
            {
                org.Endpoints.Add(await CreateEndpointAsync(context, app, org, receiver.Url, e));
            }

            return org;
        }

        var clients = new List<BenchOrg>();
        for (var c = 0; c < options.Concurrency; c++)
        {
            clients.Add(await NewOrgAsync(1));
        }

        var sized = new List<BenchOrg>();
        foreach (var count in EndpointCounts)
        {
            sized.Add(await NewOrgAsync(count));
        }

        Console.WriteLine($"  {orgs.Count} orgs, {orgs.Values.Sum(o => o.Endpoints.Count)} endpoints at {receiver.Url}; change: {Measured.Method.Name}");

        var raw = new QueueServiceClient(azurite.ConnectionString);
        var queues = new List<QueueClient>();
        for (var c = 0; c < options.Concurrency; c++)
        {
            var queue = raw.GetQueueClient($"bench-webhooks-{run}-{c}");
            await queue.CreateIfNotExistsAsync();
            queues.Add(queue);
        }

        var deadline = Stopwatch.StartNew();
        var tally = new Tally();

        // Warm-up, unrecorded: every org's endpoints once or more, the raw queues likewise.
        foreach (var org in clients.Concat(sized))
        {
            for (var i = 0; i < (org.Endpoints.Count == 1 ? WarmupChanges : 1); i++)
            {
                await ChangeAsync(context, app, org, options.Concurrency, tally, record: null);
            }
        }

        await RawAsync(queues, options.Concurrency * WarmupChanges, null);

        // (a) throughput and latency, alternating with the raw queue baseline.
        var appLatencies = new List<double>();
        var rawLatencies = new List<double>();
        TimeSpan appTime = TimeSpan.Zero, rawTime = TimeSpan.Zero, appAzurite = TimeSpan.Zero, rawAzurite = TimeSpan.Zero;
        var perRound = Math.Max(1, options.WebhookEvents / Rounds);
        for (var round = 0; round < Rounds && deadline.Elapsed < MaxRun; round++)
        {
            var cpu = azurite.CpuTime;
            var watch = Stopwatch.StartNew();
            var next = -1;
            var latencies = new ConcurrentBag<List<double>>();
            await Task.WhenAll(clients.Select(org => Task.Run(async () =>
            {
                var mine = new List<double>();
                latencies.Add(mine);
                while (Interlocked.Increment(ref next) < perRound && deadline.Elapsed < MaxRun)
                {
                    await ChangeAsync(context, app, org, options.Concurrency, tally, mine);
                }
            })));
            appTime += watch.Elapsed;
            appAzurite += azurite.CpuTime - cpu;
            appLatencies.AddRange(latencies.SelectMany(l => l));

            cpu = azurite.CpuTime;
            watch.Restart();
            await RawAsync(queues, perRound, rawLatencies);
            rawTime += watch.Elapsed;
            rawAzurite += azurite.CpuTime - cpu;
        }

        var appRate = appLatencies.Count / appTime.TotalSeconds;
        var rawRate = rawLatencies.Count / rawTime.TotalSeconds;
        var appLatency = Latency.Of(appLatencies);
        var rawLatency = Latency.Of(rawLatencies);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  app: {appLatencies.Count} deliveries in {appTime.TotalSeconds:F1} s = {appRate:F1}/s, change→delivery {appLatency}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  raw queue: {rawLatencies.Count} messages sent, received and deleted in {rawTime.TotalSeconds:F1} s = {rawRate:F1}/s, send→receive {rawLatency}"));
        var appCpu = appAzurite.TotalMilliseconds / Math.Max(1, appLatencies.Count);
        var rawCpu = rawAzurite.TotalMilliseconds / Math.Max(1, rawLatencies.Count);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  Azurite CPU: app {appCpu:F2} ms/delivery ({appAzurite.TotalSeconds / appTime.TotalSeconds:P0} of a core), raw {rawCpu:F2} ms/message ({rawAzurite.TotalSeconds / rawTime.TotalSeconds:P0})"));
        var ratio = appRate / rawRate;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  => webhook deliveries/s / raw queue messages/s: {ratio:F2}× (reported)"));

        // (b) endpoints per org: one client, sizes alternating round by round.
        var budget = Math.Max(EndpointCounts[^1], options.WebhookEvents / 2);
        var curve = EndpointCounts.Select(n => new CurvePoint(n, Math.Max(Rounds, budget / n))).ToArray();
        for (var round = 0; round < Rounds && deadline.Elapsed < MaxRun; round++)
        {
            for (var s = 0; s < curve.Length; s++)
            {
                var point = curve[s];
                var watch = Stopwatch.StartNew();
                for (var i = 0; i < point.Changes / Rounds && deadline.Elapsed < MaxRun; i++)
                {
                    var last = new List<double>();
                    if (await ChangeAsync(context, app, sized[s], options.Concurrency, tally, last) && last.Count > 0)
                    {
                        point.LastDelivery.Add(last.Max());
                    }

                    point.Made++;
                }

                point.Time += watch.Elapsed;
            }
        }

        var curveJson = new JsonArray();
        var perEndpointAt1 = curve[0].PerEndpointMs;
        foreach (var point in curve)
        {
            var change = Latency.Of(point.LastDelivery);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {point.Endpoints,3} endpoints/org: {point.Made} changes, {point.PerEndpointMs:F2} ms per event per endpoint ({point.PerEndpointMs / perEndpointAt1:F2}× of 1), " +
                $"change → last delivery p50 {change.P50:F1} ms p99 {change.P99:F1} ms"));
            curveJson.Add(new JsonObject
            {
                ["endpointsPerOrg"] = point.Endpoints,
                ["changes"] = point.Made,
                ["deliveries"] = point.Made * point.Endpoints,
                ["seconds"] = Math.Round(point.Time.TotalSeconds, 2),
                ["msPerEventPerEndpoint"] = Math.Round(point.PerEndpointMs, 3),
                ["ratioVs1"] = Math.Round(point.PerEndpointMs / perEndpointAt1, 3),
                ["changeToLastDeliveryMs"] = change.ToJson(),
            });
        }

        // Every delivery: signed as the reference library signs it, for its org, once per endpoint.
        var secrets = orgs.Values.SelectMany(o => o.Endpoints).ToDictionary(e => e.Path, e => e.Secret, StringComparer.Ordinal);
        var received = receiver.Received.ToArray();
        var badSignatures = received.Count(r => !secrets.TryGetValue(r.Path, out var secret) || !r.IsSignedWith(secret));
        var wrongOrg = received.Count(r => r.Path.Split('/', StringSplitOptions.RemoveEmptyEntries) is ["w", var o, _]
            && orgs.TryGetValue(int.Parse(o, CultureInfo.InvariantCulture), out var org) && r.Json.GetProperty("orgId").GetString() != org.Id);
        var passed = tally.Lost == 0 && tally.Failed == 0 && badSignatures == 0 && wrongOrg == 0 && strays == 0;
        Console.WriteLine($"  check: {received.Length} requests received, {seen.Count} distinct (endpoint, webhook-id), duplicates {duplicates}, " +
            $"lost {tally.Lost}, failed API calls {tally.Failed}, bad signatures {badSignatures}, wrong org {wrongOrg}, strays {strays}: {(passed ? "PASSED" : "FAILED")}");

        return new JsonObject
        {
            ["change"] = Measured.Method.Name,
            ["concurrency"] = options.Concurrency,
            ["rounds"] = Rounds,
            ["appDeliveries"] = appLatencies.Count,
            ["appSeconds"] = Math.Round(appTime.TotalSeconds, 2),
            ["appDeliveriesPerSecond"] = Math.Round(appRate, 1),
            ["changeToDeliveryMs"] = appLatency.ToJson(),
            ["rawMessages"] = rawLatencies.Count,
            ["rawSeconds"] = Math.Round(rawTime.TotalSeconds, 2),
            ["rawMessagesPerSecond"] = Math.Round(rawRate, 1),
            ["rawSendToReceiveMs"] = rawLatency.ToJson(),
            ["ratio"] = Math.Round(ratio, 3),
            ["azuriteCpuMsPerDelivery"] = Math.Round(appCpu, 3),
            ["azuriteCpuMsPerRawMessage"] = Math.Round(rawCpu, 3),
            ["endpointsCurve"] = curveJson,
            ["received"] = received.Length,
            ["distinct"] = seen.Count,
            ["duplicates"] = duplicates,
            ["lost"] = tally.Lost,
            ["failedApiCalls"] = tally.Failed,
            ["badSignatures"] = badSignatures,
            ["wrongOrg"] = wrongOrg,
            ["passed"] = passed,
            ["appWorkingSetMiB"] = RequestOverheadScenario.Round(app.WorkingSetMiB),
        };
    }

    /// <summary>The most the app's and the endpoints' rate limits allow, so no delivery waits for a token.</summary>
    private const string WebhookRateLimit = "1000";

    private sealed class Tally
    {
        private long _lost;
        private long _failed;

        public long Lost => Interlocked.Read(ref _lost);
        public long Failed => Interlocked.Read(ref _failed);

        public void AddLost(long count) => Interlocked.Add(ref _lost, count);
        public void AddFailed(long count) => Interlocked.Add(ref _failed, count);
    }

    private sealed class CurvePoint(int endpoints, int changes)
    {
        public int Endpoints { get; } = endpoints;
        public int Changes { get; } = changes;
        public int Made { get; set; }
        public TimeSpan Time { get; set; }
        public List<double> LastDelivery { get; } = [];
        public double PerEndpointMs => Made == 0 ? double.NaN : Time.TotalMilliseconds / Made / Endpoints;
    }

    /// <summary>
    /// One change, then a wait (bounded) for one delivery per endpoint; adds each delivery's
    /// change→delivery milliseconds to <paramref name="record"/>. False when a delivery did not arrive.
    /// </summary>
    private static async Task<bool> ChangeAsync(LoadContext context, AppProcess app, BenchOrg org, int parallelism, Tally tally, List<double>? record)
    {
        org.Arrivals.Clear();
        var started = Stopwatch.GetTimestamp();
        using var timeout = new CancellationTokenSource(DeliveryWait);
        try
        {
            tally.AddFailed(await Measured(context, app, org, parallelism, timeout.Token));
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
        {
            tally.AddFailed(1);
        }

        for (var k = 0; k < org.Endpoints.Count; k++)
        {
            var left = DeliveryWait - Stopwatch.GetElapsedTime(started);
            if (left <= TimeSpan.Zero || !await org.Arrived.WaitAsync(left))
            {
                tally.AddLost(org.Endpoints.Count - k);
                return false;
            }
        }

        while (org.Arrivals.TryDequeue(out var arrived))
        {
            record?.Add(Stopwatch.GetElapsedTime(started, arrived).TotalMilliseconds);
        }

        return true;
    }

    /// <summary>
    /// <paramref name="count"/> raw messages through the queues: each client sends one to its own
    /// queue, receives it and deletes it, then the next.
    /// </summary>
    private static async Task RawAsync(List<QueueClient> queues, int count, List<double>? record)
    {
        var next = -1;
        var latencies = new ConcurrentBag<double>();
        await Task.WhenAll(queues.Select(queue => Task.Run(async () =>
        {
            while (Interlocked.Increment(ref next) < count)
            {
                var started = Stopwatch.GetTimestamp();
                await queue.SendMessageAsync("{\"eventId\":\"evt_raw\"}");
                for (var attempt = 0; attempt < MaxRawReceives; attempt++)
                {
                    var messages = (await queue.ReceiveMessagesAsync(1)).Value;
                    if (messages.Length > 0)
                    {
                        latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                        await queue.DeleteMessageAsync(messages[0].MessageId, messages[0].PopReceipt);
                        break;
                    }
                }
            }
        })));
        record?.AddRange(latencies);
    }

    private static async Task<BenchEndpoint> CreateEndpointAsync(LoadContext context, AppProcess app, BenchOrg org, Uri receiver, int index)
    {
        var path = $"/w/{org.Index}/{index}";
        using var response = await SendAsync(context, app, org, HttpMethod.Post, $"/api/v1/orgs/{org.Id}/webhook-endpoints",
            new { url = new Uri(receiver, path).ToString(), description = "bench", rateLimitPerSecond = int.Parse(WebhookRateLimit, CultureInfo.InvariantCulture) },
            CancellationToken.None);
        await LoadContext.EnsureAsync(response, "create webhook endpoint");
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return new BenchEndpoint(body.GetProperty("endpoint").GetProperty("id").GetString()!, body.GetProperty("secret").GetString()!, path);
    }

    private static Task<HttpResponseMessage> SendAsync(LoadContext context, AppProcess app, BenchOrg org, HttpMethod method, string path, object? body, CancellationToken cancellationToken)
    {
        var request = new HttpRequestMessage(method, new Uri(app.BaseAddress, path)) { Content = body is null ? null : JsonContent.Create(body) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", org.Token);
        return SendAndDisposeRequestAsync(context.Http, request, cancellationToken);
    }

    private static async Task<HttpResponseMessage> SendAndDisposeRequestAsync(HttpClient http, HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using (request)
        {
            return await http.SendAsync(request, cancellationToken);
        }
    }
}

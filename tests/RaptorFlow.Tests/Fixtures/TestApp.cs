using System.Diagnostics;
using System.Net.Http.Json;
using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using RaptorFlow.Functions;
using RaptorFlow.Functions.Events;
using RaptorFlow.Functions.Hosting;
using RaptorFlow.Functions.Idempotency;
using RaptorFlow.Functions.Invoices;
using RaptorFlow.Functions.Ledger;
using RaptorFlow.Functions.Mail;
using RaptorFlow.Functions.Operations;
using RaptorFlow.Functions.Platform.RateLimiting;
using RaptorFlow.Functions.Platform.Storage;
using RaptorFlow.Functions.Privacy;
using RaptorFlow.Functions.Razorpay;
using RaptorFlow.Functions.Usage;
using RaptorFlow.Functions.Webhooks;
using WireMock.Server;

namespace RaptorFlow.Tests.Fixtures;

/// <summary>
/// The real app on Kestrel, on a free loopback port, against the shared Azurite: requests go
/// over HTTP exactly as the Functions host forwards them.
/// </summary>
public sealed partial class TestApp : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Lazy<HashSet<string>> _ownNames;

    /// <summary>
    /// The name of every timer function but the heartbeat: each timer handler's <c>FunctionName</c> constant.
    /// A timer without one fails every test, so a new timer cannot run unnoticed in every test app.
    /// </summary>
    private static readonly Lazy<string[]> TimerFunctionNames = new(() =>
    [
        .. typeof(Program).Assembly.GetTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false } && typeof(ITimerFunction).IsAssignableFrom(t) && t != typeof(HeartbeatTimer))
            .Select(t => t.GetField("FunctionName", BindingFlags.Public | BindingFlags.Static)?.GetRawConstantValue() as string
                ?? throw new InvalidOperationException($"Timer {t.Name} has no FunctionName constant for the test apps to disable it by.")),
    ]);

    private TestApp(WebApplication app, Azurite azurite, Uri baseAddress)
    {
        _app = app;
        _ownNames = new(() => [.. app.Services.GetRequiredService<IConfiguration>().AsEnumerable().Select(kv => kv.Value).OfType<string>()]);
        Azurite = azurite;
        BaseAddress = baseAddress;
        Client = CreateClient();
    }

    public Azurite Azurite { get; }
    public Uri BaseAddress { get; }
    public HttpClient Client { get; }
    public IServiceProvider Services => _app.Services;
    public StorageAccount Storage => Services.GetRequiredService<StorageAccount>();

    /// <summary>
    /// False for a queue or table another test app named for itself: a name with a run of twelve or more
    /// hex digits (a GUID's) that is none of this app's settings. A scan of "all that is stored" reads this
    /// app's own and the shared ones, not the thousands of other apps' queues, which hold nothing of its.
    /// </summary>
    public bool MayHoldDataOf(string queueOrTable)
    {
        var own = _ownNames.Value;
        var name = queueOrTable.EndsWith("-poison", StringComparison.Ordinal) ? queueOrTable[..^"-poison".Length] : queueOrTable;
        return own.Contains(name) || !AnotherAppsName().IsMatch(name);
    }

    [GeneratedRegex("[0-9a-f]{12}", RegexOptions.IgnoreCase)]
    private static partial Regex AnotherAppsName();

    /// <summary>One sync of the shared rate limits, as the background sync does every second, for a test that moved the clock.</summary>
    public Task SyncRateLimitsAsync() => Services.GetRequiredService<SharedRateLimits>().SyncAsync(CancellationToken.None);

    /// <summary>A client like an outside caller's: it adds no trace headers of its own.</summary>
    public HttpClient CreateClient() =>
        new(new SocketsHttpHandler { ActivityHeadersPropagator = DistributedContextPropagator.CreateNoOutputPropagator() })
        {
            BaseAddress = BaseAddress,
            Timeout = TimeSpan.FromSeconds(60),
        };

    /// <param name="settings">Settings over the defaults below; a null value removes a default.</param>
    /// <param name="customize">Replaces services (doubles) after the app's own registrations.</param>
    /// <param name="mapMore">Maps extra endpoints.</param>
    /// <param name="clock">The app's <see cref="TimeProvider"/>, usually a FakeTimeProvider the test moves.</param>
    /// <param name="hostDrivesTriggers">
    /// No in-process queue listeners or timer schedules: the test invokes functions as the Functions host
    /// would (<see cref="HostInvocations"/>) or runs them itself.
    /// </param>
    /// <param name="razorpay">A stub of Razorpay's API the app calls with test keys and no retries.</param>
    /// <param name="storage">A storage connection string other than the shared Azurite's (a fresh or an unreachable account).</param>
    /// <param name="waitUntilReady">False to get the app the moment it listens, before <c>/api/readyz</c> answers 200.</param>
    public static async Task<TestApp> StartAsync(
        IDictionary<string, string?>? settings = null,
        Action<WebApplicationBuilder>? customize = null,
        Action<WebApplication>? mapMore = null,
        TimeProvider? clock = null,
        bool hostDrivesTriggers = false,
        WireMockServer? razorpay = null,
        string? storage = null,
        bool waitUntilReady = true)
    {
        var azurite = await Azurite.Shared;
        var all = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["urls"] = "http://127.0.0.1:0",
            ["environment"] = "Testing",
            [StorageAccount.SettingName] = storage ?? azurite.ConnectionString,
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
            // Many tests fail on purpose (poison messages, Razorpay outages); their log lines would
            // bury the test runner's own report. Tests that check logging add a capturing provider.
            ["Logging:Console:LogLevel:Default"] = "None",
            // The fan-out queues are the app's own, so another app's listener never takes its work.
            ["Invoices:CloseQueue"] = $"{CloseOrgPeriodQueue.Default}-{Guid.NewGuid():N}",
            ["Usage:RollupQueue"] = $"{RollupOrgUsageQueue.Default}-{Guid.NewGuid():N}",
            ["Ledger:CheckQueue"] = $"{CheckLedgerQueue.Default}-{Guid.NewGuid():N}",
            ["Privacy:PurgeQueue"] = $"{PurgeOrgQueue.Default}-{Guid.NewGuid():N}",
            ["Privacy:RetentionQueue"] = $"{OrgRetentionQueue.Default}-{Guid.NewGuid():N}",
            // So are the work queues: another app polling a shared one would dispatch, deliver, mail or
            // export this app's work with its own doubles and clock. Apps of one test share a queue by setting it.
            ["Events:DispatchQueue"] = $"{OutboxKeys.Queue}-{Guid.NewGuid():N}",
            // Its pending events too: another app's sweeper would move this app's events onto its own queue.
            ["Events:OutboxTable"] = $"{OutboxKeys.TableName}{Guid.NewGuid():N}",
            ["Razorpay:EventsQueue"] = $"razorpay-events-{Guid.NewGuid():N}",
            // And its inbox: another app's sweeper would take this app's unsettled events onto its own queue.
            ["Razorpay:InboxTable"] = $"RazorpayInbox{Guid.NewGuid():N}",
            ["Webhooks:DeliveryQueue"] = $"{WebhookQueues.DefaultDeliveries}-{Guid.NewGuid():N}",
            ["Webhooks:RecoveryQueue"] = $"{WebhookQueues.DefaultRecoveries}-{Guid.NewGuid():N}",
            ["Mail:Queue"] = $"{MailQueue.Default}-{Guid.NewGuid():N}",
            ["Mail:KeyExpiryQueue"] = $"{KeyExpiryQueue.Default}-{Guid.NewGuid():N}",
            ["Privacy:ExportQueue"] = $"{ExportQueue.Default}-{Guid.NewGuid():N}",
            ["Privacy:ErasureQueue"] = $"{ErasureQueue.Default}-{Guid.NewGuid():N}",
            // Every test calls from 127.0.0.1 and many share a user: the user and anonymous budgets are
            // shared by the whole run through Azurite, so they are out of the way unless a test sets them.
            // Each app its own shared buckets, as separate deployments would have; apps of one test share a table by setting it.
            ["RateLimits:Table"] = $"RateLimits{Guid.NewGuid():N}",
            ["RateLimits:UserPerMinute"] = "1000000",
            ["RateLimits:UserOrgPerMinute"] = "1000000",
            ["RateLimits:RazorpayWebhookPerAddress"] = "1000000",
            ["RateLimits:InvitationAcceptPerAddress"] = "1000000",
            ["RateLimits:DevTokenPerAddress"] = "1000000",
        };
        // Every test app shares one Azurite but brings its own doubles (known orgs, plan
        // catalogs, clocks): one app's sweeper, rollup, invoice run, key purge or export expiry would act
        // on another test's rows with the wrong doubles, whenever its clock (often a fake one the test
        // moves by days) crosses the schedule. Every timer but the heartbeat is off; tests run these
        // functions themselves, and a test that wants a timer sets "false".
        foreach (var timer in TimerFunctionNames.Value)
        {
            all[$"AzureWebJobs.{timer}.Disabled"] = "true";
        }

        if (hostDrivesTriggers)
        {
            all["Hosting:Standalone:Enabled"] = "false";
        }

        if (razorpay is not null)
        {
            all["Razorpay:BaseUrl"] = razorpay.Url + "/v1/";
            all["Razorpay:KeyId"] = "rzp_test_stub";
            all["Razorpay:KeySecret"] = "stub-key-secret";
            all["Razorpay:MaxRetries"] = "0";
        }

        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }

        var args = all.Where(kv => kv.Value is not null).Select(kv => $"--{kv.Key}={kv.Value}").ToArray();
        var app = Program.Build(args, builder =>
        {
            if (clock is not null)
            {
                builder.Services.AddSingleton(clock);
            }

            customize?.Invoke(builder);
        }, mapMore);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var testApp = new TestApp(app, azurite, new Uri(address));
        if (waitUntilReady)
        {
            await testApp.WaitUntilReadyAsync();
        }

        return testApp;
    }

    private async Task WaitUntilReadyAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (true)
        {
            using var response = await Client.GetAsync(new Uri("/api/readyz", UriKind.Relative));
            if (response.IsSuccessStatusCode)
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"The app did not become ready: {await response.Content.ReadAsStringAsync()}");
            }

            await Task.Delay(100);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>One app per test class, sharing the run's Azurite.</summary>
public sealed class AppFixture : IAsyncLifetime
{
    private TestApp? _app;

    public TestApp App => _app ?? throw new InvalidOperationException("The app has not started.");
    public HttpClient Client => App.Client;

    public async Task InitializeAsync() => _app = await TestApp.StartAsync();

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}

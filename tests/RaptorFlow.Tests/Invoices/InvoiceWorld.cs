using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using RaptorFlow.Functions.Invoices;
using RaptorFlow.Functions.Organizations;
using RaptorFlow.Functions.Plans;
using RaptorFlow.Functions.Razorpay;
using RaptorFlow.Functions.Usage;
using RaptorFlow.Tests.Events;
using RaptorFlow.Tests.Fixtures;
using RaptorFlow.Tests.Razorpay;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace RaptorFlow.Tests.Invoices;

/// <summary>
/// One app per test: a fake clock, its own invoice-number series (so numbering is checked without
/// other tests' invoices), Razorpay's REST API on WireMock, and the plan and usage each org has.
/// </summary>
public sealed class InvoiceWorld : IAsyncDisposable
{
    /// <summary>A plan whose fee makes GST land on a fraction of a paisa: 18% of ₹10.03 is 180.54 paise.</summary>
    public const string OddPlan = "odd";

    private InvoiceWorld(TestApp app, FakeTimeProvider clock, WireMockServer razorpay, string series, StubSubscriptions subscriptions, StubUsage usage)
    {
        App = app;
        Clock = clock;
        Razorpay = razorpay;
        Series = series;
        Subscriptions = subscriptions;
        Usage = usage;
    }

    public TestApp App { get; }
    public FakeTimeProvider Clock { get; }
    public WireMockServer Razorpay { get; }
    public string Series { get; }
    public StubSubscriptions Subscriptions { get; }
    public StubUsage Usage { get; }

    /// <summary>An invoice number series of its own, so numbering assertions never see another test's invoices.</summary>
    public static string NewSeries(char prefix) =>
        prefix + new string([.. Guid.NewGuid().ToString("N").Where(char.IsAsciiLetter).Take(6).Select(char.ToUpperInvariant)]).PadRight(6, 'X');

    /// <param name="realStores">The app's own subscription store (plan changes through the API) and usage store and rollups instead of the stubs.</param>
    /// <param name="storage">A storage connection string other than the shared Azurite's (a fresh one).</param>
    /// <param name="logs">Captures the app's log lines, the invoice feature's from Information up.</param>
    /// <param name="more">Settings over the world's own.</param>
    public static async Task<InvoiceWorld> StartAsync(
        DateTimeOffset now, bool realStores = false, string? storage = null, LogCapture? logs = null, IDictionary<string, string?>? more = null)
    {
        var clock = new FakeTimeProvider(now);
        var razorpay = WireMockServer.Start();
        var series = NewSeries('T');
        var subscriptions = new StubSubscriptions();
        var usage = new StubUsage();
        var settings = SignedInUsers.WithDevIssuer(RazorpayTestKit.Settings());
        settings["Invoices:NumberSeries"] = series;
        settings["Invoices:CreditNoteSeries"] = series + "/CN";
        settings["Invoices:SellerGstin"] = "29ABCDE1234F1Z5";
        settings.WithOwnDispatchQueue();
        if (logs is not null)
        {
            settings["Logging:LogLevel:RaptorFlow.Functions.Invoices"] = "Information";
        }

        foreach (var (key, value) in more ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        var app = await TestApp.StartAsync(settings, clock: clock, hostDrivesTriggers: true, razorpay: razorpay, storage: storage, customize: builder =>
        {
            builder.Services.AddSingleton(Catalog());
            if (logs is not null)
            {
                builder.Logging.AddProvider(logs);
            }

            if (!realStores)
            {
                builder.Services.AddSingleton<ISubscriptions>(subscriptions);
                builder.Services.AddSingleton<IUsageTotals>(usage);
            }

        });
        var world = new InvoiceWorld(app, clock, razorpay, series, subscriptions, usage);
        world.LinksSucceed();
        return world;
    }

    /// <summary>The built-in catalog plus <see cref="OddPlan"/>.</summary>
    public static PlanCatalog Catalog()
    {
        var plan = $"{PlanSettings.CatalogSection}:{OddPlan}";
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            [$"{plan}:Name"] = "Odd",
            [$"{plan}:MonthlyFeeMinor"] = "1003",
            [$"{plan}:Currency"] = "INR",
            [$"{plan}:ApiRateLimitPerMinute"] = "60",
            [$"{plan}:Meters:{Meters.ApiCalls}:IncludedQuantity"] = "100",
            [$"{plan}:Meters:{Meters.ApiCalls}:UnitSize"] = "7",
            [$"{plan}:Meters:{Meters.ApiCalls}:PricePerUnitBlockMinor"] = "333",
            [$"{plan}:Meters:storage_gb:IncludedQuantity"] = "0",
            [$"{plan}:Meters:storage_gb:UnitSize"] = "1",
            [$"{plan}:Meters:storage_gb:PricePerUnitBlockMinor"] = "1999",
        }).Build();
        return new PlanCatalog(Options.Create(new PlanSettings()), configuration);
    }

    public void LinksSucceed()
    {
        Razorpay.Reset();
        RazorpayPaymentLinks.Succeed(Razorpay);
    }

    public void LinksFail(int status = 503)
    {
        Razorpay.Reset();
        Razorpay.Given(Request.Create().WithPath("/v1/payment_links").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(status).WithHeader("Content-Type", "application/json")
                .WithBody("""{"error":{"code":"SERVER_ERROR","description":"The server is unavailable."}}"""));
    }

    /// <summary>The bodies of the payment-link requests Razorpay received.</summary>
    public IReadOnlyList<JsonElement> LinkRequests() => RazorpayPaymentLinks.Requests(Razorpay);

    /// <summary>A signed-in owner and a new org created at the clock's current time.</summary>
    public async Task<(TestUser Owner, string OrgId)> NewOrgAsync(string? planId = null, string? name = null)
    {
        var (owner, orgId) = await App.NewOrgAsync(name);
        if (planId is not null)
        {
            Subscriptions.Plans[orgId] = planId;
        }

        return (owner, orgId);
    }

    /// <summary>Closes the org's last closed month as one GenerateInvoices run would.</summary>
    public async Task<InvoiceRow> CloseAsync(string orgId)
    {
        using var scope = App.Services.CreateScope();
        var run = scope.ServiceProvider.GetRequiredService<GenerateInvoices>();
        var (start, _) = InvoiceIssuer.LastClosedPeriod(Clock.GetUtcNow());
        return await run.CloseOrgAsync(orgId, start, CancellationToken.None);
    }

    /// <summary>The user signed in again at the clock's current time (a token from before a time jump has expired).</summary>
    public Task<TestUser> AgainAsync(TestUser user) => App.SignInAsync(user.Id, user.Email);

    public async Task<JsonElement> GetInvoiceAsync(TestUser user, string orgId, string invoiceId)
    {
        user = await AgainAsync(user);
        using var response = await user.Client.GetAsync(new Uri($"/api/v1/orgs/{orgId}/invoices/{invoiceId}", UriKind.Relative));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    public async ValueTask DisposeAsync()
    {
        await App.DisposeAsync();
        Razorpay.Stop();
        Razorpay.Dispose();
    }
}

/// <summary>Which plan each org is on; every other org is on free.</summary>
public sealed class StubSubscriptions : ISubscriptions
{
    public ConcurrentDictionary<string, string> Plans { get; } = new();

    public Task<OrgSubscription> GetAsync(string orgId, CancellationToken cancellationToken)
    {
        var start = new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero);
        return Task.FromResult(new OrgSubscription(orgId, Plans.GetValueOrDefault(orgId, "free"), "active", start, start.AddMonths(1), null));
    }
}

/// <summary>Usage totals per org and meter, and the windows they were asked for.</summary>
public sealed class StubUsage : IUsageTotals
{
    public ConcurrentDictionary<string, Dictionary<string, long>> Totals { get; } = new();

    public ConcurrentBag<(string OrgId, DateTimeOffset From, DateTimeOffset To)> Asked { get; } = [];

    /// <summary>Orgs whose totals cannot be read (a storage outage, say).</summary>
    public ConcurrentDictionary<string, bool> Unreadable { get; } = new();

    public Task<IReadOnlyDictionary<string, long>> GetTotalsAsync(string orgId, DateTimeOffset fromUtc, DateTimeOffset toUtc, CancellationToken cancellationToken)
    {
        Asked.Add((orgId, fromUtc, toUtc));
        if (Unreadable.ContainsKey(orgId))
        {
            throw new InvalidOperationException($"The usage totals of {orgId} cannot be read.");
        }

        return Task.FromResult<IReadOnlyDictionary<string, long>>(Totals.GetValueOrDefault(orgId) ?? []);
    }

    public Task RollUpPendingAsync(string orgId, DateTimeOffset fromUtc, DateTimeOffset toUtc, CancellationToken cancellationToken) => Task.CompletedTask;
}

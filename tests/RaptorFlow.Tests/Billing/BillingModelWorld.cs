using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using RaptorFlow.Functions.Invoices;
using RaptorFlow.Tests.Events;
using RaptorFlow.Tests.Fixtures;
using RaptorFlow.Tests.Invoices;
using RaptorFlow.Tests.Payments;
using RaptorFlow.Tests.Razorpay;
using WireMock.Server;

namespace RaptorFlow.Tests.Billing;

/// <summary>
/// The app as deployed, once per test class: a fake clock, triggers off (the test runs the invoice
/// run and the events queue function itself), two plans with a metered export, and Razorpay's REST
/// API on WireMock. Each history bills months of its own, later than any other test's clock.
/// </summary>
public sealed class BillingModelWorld : IAsyncLifetime
{
    public const string Basic = "model-basic";
    public const string Pro = "model-pro";
    public const string Exports = "model_exports";
    public const long ExportPrice = 100;

    public static readonly IReadOnlyDictionary<string, long> Fees = new Dictionary<string, long> { [Basic] = 100_000, [Pro] = 250_000 };

    private static readonly DateTimeOffset FirstMonth = new(2031, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private int _months;
    private TestApp? _app;
    private WireMockServer? _razorpay;
    private RazorpayCheckoutFake? _checkout;
    private readonly string _opsId = SignedInUsers.NewUserId();

    public TestApp App => _app ?? throw new InvalidOperationException("The app has not started.");
    public FakeTimeProvider Clock { get; } = new(FirstMonth);
    public WireMockServer Razorpay => _razorpay ?? throw new InvalidOperationException("The app has not started.");

    /// <summary>Razorpay's Refunds API (and Orders), for refunds the org asks for.</summary>
    public RazorpayCheckoutFake Checkout => _checkout ?? throw new InvalidOperationException("The app has not started.");

    /// <summary>The first day of a month no history has billed yet (three months each: the period, the late-usage period, a gap).</summary>
    public DateTimeOffset NextMonth() => FirstMonth.AddMonths(3 * Interlocked.Increment(ref _months));

    public async Task InitializeAsync()
    {
        _razorpay = WireMockServer.Start();
        RazorpayPaymentLinks.Succeed(_razorpay);
        _checkout = new RazorpayCheckoutFake(_razorpay);
        var settings = SignedInUsers.WithDevIssuer(RazorpayTestKit.Settings());
        settings["Invoices:NumberSeries"] = InvoiceWorld.NewSeries('M');
        settings["Auth:PlatformAdmins:0"] = _opsId;
        settings.WithOwnDispatchQueue();
        foreach (var (plan, fee) in Fees)
        {
            var section = $"Plans:Catalog:{plan}";
            settings[$"{section}:Name"] = plan;
            settings[$"{section}:MonthlyFeeMinor"] = fee.ToString(System.Globalization.CultureInfo.InvariantCulture);
            settings[$"{section}:Currency"] = "INR";
            settings[$"{section}:ApiRateLimitPerMinute"] = "600";
            settings[$"{section}:Meters:{Exports}:IncludedQuantity"] = "0";
            settings[$"{section}:Meters:{Exports}:UnitSize"] = "1";
            settings[$"{section}:Meters:{Exports}:PricePerUnitBlockMinor"] = ExportPrice.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        _app = await TestApp.StartAsync(settings, clock: Clock, hostDrivesTriggers: true, razorpay: _razorpay);
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }

        _razorpay?.Stop();
        _razorpay?.Dispose();
    }

    /// <summary>A token minted at the clock's current time (one from before a time jump has expired).</summary>
    public Task<TestUser> AsAsync(TestUser user) => App.SignInAsync(user.Id, user.Email);

    public async Task ChoosePlanAsync(TestUser owner, string orgId, string planId)
    {
        owner = await AsAsync(owner);
        using var response = await owner.Client.PostAsJsonAsync(new Uri($"/api/v1/orgs/{orgId}/subscription", UriKind.Relative), new { planId });
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    public async Task RecordExportsAsync(TestUser owner, string orgId, long quantity, DateTimeOffset at)
    {
        owner = await AsAsync(owner);
        var events = new[] { new { id = "exp-" + Guid.NewGuid().ToString("N"), meter = Exports, quantity, timestamp = at.ToString("O") } };
        using var response = await owner.Client.PostAsJsonAsync(new Uri($"/api/v1/orgs/{orgId}/usage-events", UriKind.Relative), new { events });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        Assert.Equal(1, JsonDocument.Parse(body).RootElement.GetProperty("accepted").GetInt32());
    }

    /// <summary>
    /// What GenerateInvoices does for one org when its run closes <paramref name="periodStart"/>'s month.
    /// The timer itself closes every org in storage, and this Azurite holds every other test's orgs.
    /// </summary>
    public async Task<InvoiceRow> CloseAsync(string orgId, DateTimeOffset periodStart)
    {
        using var scope = App.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<GenerateInvoices>().CloseOrgAsync(orgId, periodStart, CancellationToken.None);
    }

    public async Task<HttpStatusCode> VoidAsync(TestUser owner, string orgId, string invoiceId)
    {
        owner = await AsAsync(owner);
        using var response = await owner.Client.PostAsJsonAsync(new Uri($"/api/v1/orgs/{orgId}/invoices/{invoiceId}/void", UriKind.Relative), new { reason = "model" });
        Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Conflict, await response.Content.ReadAsStringAsync());
        return response.StatusCode;
    }

    public async Task<JsonElement> InvoiceAsync(TestUser owner, string orgId, string invoiceId)
    {
        owner = await AsAsync(owner);
        using var response = await owner.Client.GetAsync(new Uri($"/api/v1/orgs/{orgId}/invoices/{invoiceId}", UriKind.Relative));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>Asks for a refund of a payment through the API: the status, and the refund or the problem.</summary>
    public async Task<(HttpStatusCode Status, JsonElement Body)> RequestRefundAsync(TestUser owner, string orgId, string paymentId, long? amountMinor, bool refused)
    {
        owner = await AsAsync(owner);
        object body = amountMinor is { } amount ? new { amountMinor = amount, reason = "Unused credit" } : new { reason = "The rest" };
        Checkout.RefuseRefundsWith = refused ? "BAD_REQUEST_ERROR" : null;
        try
        {
            using var response = await PaymentsWorld.PostAsync(owner, $"/api/v1/orgs/{orgId}/payments/{paymentId}/refunds", body, Guid.NewGuid().ToString("N"));
            return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
        }
        finally
        {
            Checkout.RefuseRefundsWith = null;
        }
    }

    /// <summary>Ops assign a payment held in suspense to an org (POST /api/v1/ops/suspense/{paymentId}/assign).</summary>
    public async Task<(HttpStatusCode Status, string Body)> AssignFromSuspenseAsync(string paymentId, string orgId)
    {
        var ops = await App.SignInAsync(_opsId);
        using var response = await PaymentsWorld.PostAsync(ops, $"/api/v1/ops/suspense/{paymentId}/assign", new { orgId }, Guid.NewGuid().ToString("N"));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    public async Task<JsonElement> PaymentAsync(TestUser owner, string orgId, string paymentId) =>
        await PaymentsWorld.GetPaymentAsync(await AsAsync(owner), orgId, paymentId);

    /// <summary>Delivers a signed webhook, then runs the events queue function on its message.</summary>
    public async Task DeliverAndProcessAsync(string eventId, string body)
    {
        using (var response = await App.DeliverAsync(body, eventId))
        {
            Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        }

        await App.ProcessAsync(eventId);
    }
}

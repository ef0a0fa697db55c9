using System.Net;
using System.Text;
using RaptorFlow.Functions.Razorpay;
using RaptorFlow.Tests.Fixtures;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace RaptorFlow.Tests.Razorpay;

/// <summary>The REST client against a local fake Razorpay.</summary>
public sealed class RazorpayClientTests : IAsyncLifetime
{
    private readonly WireMockServer _razorpay = WireMockServer.Start();
    private TestApp _app = null!;

    private RazorpayClient Client => _app.Services.GetRequiredService<RazorpayClient>();

    public async Task InitializeAsync()
    {
        // A first request warms the fake up, so no test's first call races the attempt timeout.
        using (var warm = new HttpClient())
        {
            using var _ = await warm.GetAsync(new Uri(_razorpay.Urls[0] + "/warm-up"));
        }

        _razorpay.ResetLogEntries();
        _app = await StartAppAsync();
    }

    private Task<TestApp> StartAppAsync() => TestApp.StartAsync(new Dictionary<string, string?>
    {
        ["Razorpay:BaseUrl"] = _razorpay.Urls[0] + "/v1/",
        ["Razorpay:KeyId"] = "rzp_test_key",
        ["Razorpay:KeySecret"] = "rzp_test_secret",
        ["Razorpay:RetryBaseDelay"] = "00:00:00.010",
        ["Razorpay:AttemptTimeout"] = "00:00:03",
        ["Razorpay:EventsQueue"] = "rzp-client-" + Guid.NewGuid().ToString("N")[..12],
    });

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        _razorpay.Stop();
        _razorpay.Dispose();
    }

    [Fact]
    public async Task Create_order_sends_paise_notes_and_basic_auth_and_reads_the_order()
    {
        _razorpay.Given(Request.Create().WithPath("/v1/orders").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithBody(
                """{"id":"order_EKwxwAgItmmXdp","entity":"order","amount":50000,"amount_paid":0,"currency":"INR","receipt":"bill_1","status":"created","notes":[],"created_at":1582628071}"""));

        var order = await Client.CreateOrderAsync(new CreateOrderRequest(50_000, "INR", "bill_1", new Dictionary<string, string> { ["org_id"] = "org_x" }), default);

        Assert.Equal("order_EKwxwAgItmmXdp", order.Id);
        Assert.Equal(50_000, order.Amount);
        var request = Assert.Single(_razorpay.LogEntries).RequestMessage;
        Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("rzp_test_key:rzp_test_secret")), request.Headers!["Authorization"].Single());
        Assert.Contains("\"amount\":50000", request.Body, StringComparison.Ordinal);
        Assert.Contains("\"org_id\":\"org_x\"", request.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Razorpay_error_body_becomes_a_typed_error_without_retry()
    {
        _razorpay.Given(Request.Create().WithPath("/v1/payment_links").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(400).WithBody(
                """{"error":{"code":"BAD_REQUEST_ERROR","description":"The amount must be atleast INR 1.00","source":"business","step":"payment_initiation","reason":"input_validation_failed","metadata":{},"field":"amount"}}"""));

        var error = await Assert.ThrowsAsync<RazorpayApiException>(() => Client.CreatePaymentLinkAsync(new CreatePaymentLinkRequest(1, "INR", "Invoice"), default));

        Assert.Equal(HttpStatusCode.BadRequest, error.Status);
        Assert.Equal("BAD_REQUEST_ERROR", error.Code);
        Assert.Equal("amount", error.Field);
        Assert.Equal("input_validation_failed", error.Reason);
        Assert.Single(_razorpay.LogEntries);
    }

    [Fact]
    public async Task Rate_limited_and_failing_reads_are_retried_until_they_succeed()
    {
        _razorpay.Given(Request.Create().WithPath("/v1/payments/pay_1").UsingGet()).InScenario("flaky").WillSetStateTo("limited")
            .RespondWith(Response.Create().WithStatusCode(429).WithBody("""{"error":{"code":"BAD_REQUEST_ERROR","description":"Too many requests"}}"""));
        _razorpay.Given(Request.Create().WithPath("/v1/payments/pay_1").UsingGet()).InScenario("flaky").WhenStateIs("limited").WillSetStateTo("broken")
            .RespondWith(Response.Create().WithStatusCode(502));
        _razorpay.Given(Request.Create().WithPath("/v1/payments/pay_1").UsingGet()).InScenario("flaky").WhenStateIs("broken")
            .RespondWith(Response.Create().WithStatusCode(200).WithBody(
                """{"id":"pay_1","entity":"payment","amount":1000,"currency":"INR","status":"captured","order_id":"order_1","fee":24,"tax":4,"notes":[]}"""));

        var payment = await Client.FetchPaymentAsync("pay_1", default);

        Assert.Equal("captured", payment.Status);
        Assert.Equal(24, payment.Fee);
        Assert.Equal(3, _razorpay.LogEntries.Count);
    }

    [Fact]
    public async Task Refund_sends_the_idempotency_key_header_and_paise_and_reads_razorpays_documented_refund_body()
    {
        _razorpay.Given(Request.Create().WithPath("/v1/payments/pay_29QQoUBi66xm2f/refund").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithBody(
                """{"id":"rfnd_FP8QHiV938haTz","entity":"refund","amount":500100,"receipt":"Receipt No. 31","currency":"INR","payment_id":"pay_29QQoUBi66xm2f","notes":[],"acquirer_data":{"arn":null},"created_at":1597078866,"batch_id":null,"status":"processed","speed_processed":"normal","speed_requested":"normal"}"""));

        var refund = await Client.CreateRefundAsync(
            "pay_29QQoUBi66xm2f", new CreateRefundRequest(500_100, new Dictionary<string, string> { ["refund_id"] = "prf_1" }), "refund-key_0123456789", default);

        Assert.Equal(new RazorpayRefund("rfnd_FP8QHiV938haTz", "pay_29QQoUBi66xm2f", 500_100, "INR", "processed"), refund);
        var request = Assert.Single(_razorpay.LogEntries).RequestMessage;
        Assert.Equal("refund-key_0123456789", request.Headers![RazorpayClient.RefundIdempotencyHeader].Single());
        Assert.Contains("\"amount\":500100", request.Body, StringComparison.Ordinal);
        Assert.Contains("\"refund_id\":\"prf_1\"", request.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Refund_is_never_retried_after_a_server_error_so_money_cannot_move_twice()
    {
        _razorpay.Given(Request.Create().WithPath("/v1/payments/pay_2/refund").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(500).WithBody("""{"error":{"code":"SERVER_ERROR","description":"We are facing some trouble"}}"""));

        var error = await Assert.ThrowsAsync<RazorpayApiException>(() => Client.CreateRefundAsync("pay_2", new CreateRefundRequest(500), default));

        Assert.Equal("SERVER_ERROR", error.Code);
        Assert.Single(_razorpay.LogEntries);
    }

    [Fact]
    public async Task Slow_answer_times_out_per_attempt_and_is_retried()
    {
        var calls = 0;
        _razorpay.Given(Request.Create().WithPath("/v1/subscriptions").UsingPost())
            .RespondWith(Response.Create().WithCallback(_ =>
            {
                if (Interlocked.Increment(ref calls) == 1)
                {
                    Thread.Sleep(TimeSpan.FromSeconds(5));
                }

                return new WireMock.ResponseMessage
                {
                    StatusCode = 200,
                    BodyData = new WireMock.Util.BodyData
                    {
                        DetectedBodyType = WireMock.Types.BodyType.String,
                        BodyAsString = """{"id":"sub_1","entity":"subscription","plan_id":"plan_1","status":"created"}""",
                    },
                };
            }));

        var subscription = await Client.CreateSubscriptionAsync(new CreateSubscriptionRequest("plan_1", 12), default);

        Assert.Equal("sub_1", subscription.Id);
        Assert.Equal("plan_1", subscription.PlanId);
        Assert.True(calls >= 2);
    }
}

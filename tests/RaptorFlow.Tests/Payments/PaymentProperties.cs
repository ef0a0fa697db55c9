using System.Net;
using System.Text.Json;
using CsCheck;
using RaptorFlow.Functions.Payments;
using RaptorFlow.Functions.Razorpay;
using RaptorFlow.Tests.Razorpay;
using static RaptorFlow.Tests.Payments.PaymentsWorld;

namespace RaptorFlow.Tests.Payments;

public sealed class PaymentProperties
{
    private static Task ObserveAsync(PaymentsWorld world, string body)
    {
        var root = JsonDocument.Parse(body).RootElement.Clone();
        var observer = world.App.Services.GetServices<IRazorpayEventObserver>().OfType<PaymentActivity>().Single();
        return observer.ObserveAsync(new RazorpayEvent(RazorpayTestKit.NewId("evt"), root.GetProperty("event").GetString()!, root), CancellationToken.None);
    }

    [Fact]
    public async Task Concurrent_refunds_never_reserve_more_than_was_captured()
    {
        await using var world = await StartAsync();
        var (owner, orgId) = await world.NewOrgAsync();
        const long Captured = 10_000;

        await Gen.Long[1, 6_000].List[2, 6].SampleAsync(async amounts =>
        {
            var paymentId = RazorpayTestKit.NewId("pay");
            await ObserveAsync(world, RazorpayTestKit.Event("payment.captured", ("payment", Payment(paymentId, Captured, orgId, null))));

            var answers = await Task.WhenAll(amounts.Select(async amount =>
            {
                using var response = await PostAsync(owner, $"/api/v1/orgs/{orgId}/payments/{paymentId}/refunds", new { amountMinor = amount, reason = "Race" }, Guid.NewGuid().ToString("N"));
                var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
                return (response.StatusCode, Json: json, Amount: amount);
            }));

            var accepted = answers.Where(a => a.StatusCode == HttpStatusCode.Created).Sum(a => a.Amount);
            Assert.All(answers.Where(a => a.StatusCode != HttpStatusCode.Created), a =>
                Assert.Equal("refund.exceeds_captured", a.Json.GetProperty("code").GetString()));
            Assert.True(accepted <= Captured, $"{accepted} reserved of {Captured}");
            var payment = await GetPaymentAsync(owner, orgId, paymentId);
            Assert.Equal(accepted, payment.GetProperty("pendingRefundMinor").GetInt64());
            Assert.Equal(Captured - accepted, payment.GetProperty("refundableMinor").GetInt64());
        }, iter: 6, threads: 1);
    }

    [Fact]
    public async Task Payment_events_duplicated_and_in_any_order_leave_the_same_payment_where_a_refund_failed_or_reversed_after_processing_counts_as_failed()
    {
        await using var world = await StartAsync();
        var (owner, orgId) = await world.NewOrgAsync();

        await Gen.Int[0, 11].List[7, 14].Select(Gen.Shuffle(Enumerable.Range(0, 12).ToArray())).SampleAsync(async ((List<int> Duplicates, int[] Order) plan) =>
        {
            var paymentId = RazorpayTestKit.NewId("pay");
            var (done, failed) = (RazorpayTestKit.NewId("rfnd"), RazorpayTestKit.NewId("rfnd"));
            // Processed, then reported failed; processed, then reversed: neither counts in the end.
            var (undone, reversed) = (RazorpayTestKit.NewId("rfnd"), RazorpayTestKit.NewId("rfnd"));
            var authorized = Payment(paymentId, 50_000, orgId, null, status: "authorized");
            var captured = Payment(paymentId, 50_000, orgId, null);
            var events = new[]
            {
                RazorpayTestKit.Event("payment.authorized", ("payment", authorized)),
                RazorpayTestKit.Event("payment.captured", ("payment", captured)),
                RazorpayTestKit.Event("payment.failed", ("payment", Payment(paymentId, 50_000, orgId, null, status: "failed"))),
                RazorpayTestKit.Event("refund.created", ("refund", Refund(done, paymentId, 10_000, null, "pending")), ("payment", captured)),
                RazorpayTestKit.Event("refund.processed", ("refund", Refund(done, paymentId, 10_000, null, "processed")), ("payment", captured)),
                RazorpayTestKit.Event("refund.created", ("refund", Refund(failed, paymentId, 5_000, null, "pending")), ("payment", captured)),
                RazorpayTestKit.Event("refund.failed", ("refund", Refund(failed, paymentId, 5_000, null, "failed")), ("payment", captured)),
                RazorpayTestKit.Event("refund.created", ("refund", Refund(undone, paymentId, 7_000, null, "pending")), ("payment", captured)),
                RazorpayTestKit.Event("refund.processed", ("refund", Refund(undone, paymentId, 7_000, null, "processed")), ("payment", captured)),
                RazorpayTestKit.Event("refund.failed", ("refund", Refund(undone, paymentId, 7_000, null, "failed")), ("payment", captured)),
                RazorpayTestKit.Event("refund.processed", ("refund", Refund(reversed, paymentId, 3_000, null, "processed")), ("payment", captured)),
                RazorpayTestKit.Event("refund.reversed", ("refund", Refund(reversed, paymentId, 3_000, null, "reversed")), ("payment", captured)),
            };

            foreach (var index in plan.Order.Concat(plan.Duplicates))
            {
                await ObserveAsync(world, events[index]);
            }

            var payment = await GetPaymentAsync(owner, orgId, paymentId);
            Assert.Equal("partially_refunded", payment.GetProperty("status").GetString());
            Assert.Equal(50_000, payment.GetProperty("capturedMinor").GetInt64());
            Assert.Equal(10_000, payment.GetProperty("refundedMinor").GetInt64());
            Assert.Equal(0, payment.GetProperty("pendingRefundMinor").GetInt64());
            Assert.Equal(40_000, payment.GetProperty("refundableMinor").GetInt64());
            Assert.Equal(2_000, payment.GetProperty("feeMinor").GetInt64());
            var refunds = payment.GetProperty("refunds").EnumerateArray().ToDictionary(r => r.GetProperty("razorpayRefundId").GetString()!, r => r.GetProperty("status").GetString());
            Assert.Equal("processed", refunds[done]);
            Assert.Equal("failed", refunds[failed]);
            Assert.Equal("failed", refunds[undone]);
            Assert.Equal("failed", refunds[reversed]);
        }, iter: 12, threads: 1);
    }

    [Fact]
    public async Task A_payment_of_an_unknown_org_gets_no_row()
    {
        await using var world = await StartAsync();
        var (owner, orgId) = await world.NewOrgAsync();
        var paymentId = RazorpayTestKit.NewId("pay");

        await ObserveAsync(world, RazorpayTestKit.Event("payment.captured", ("payment", Payment(paymentId, 50_000, RazorpayTestKit.NewOrgId(), null))));

        using var response = await owner.Client.GetAsync(new Uri($"/api/v1/orgs/{orgId}/payments/{paymentId}", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Null(await world.App.Services.GetRequiredService<PaymentBook>().FindPaymentAsync(orgId, paymentId, CancellationToken.None));
    }
}

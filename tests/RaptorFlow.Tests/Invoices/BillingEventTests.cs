using System.Net;
using System.Text.Json;
using Azure.Data.Tables;
using RaptorFlow.Functions.Events;
using RaptorFlow.Tests.Events;
using static RaptorFlow.Functions.Ledger.ChartOfAccounts;
using static RaptorFlow.Tests.Events.EventFeedKit;
using static RaptorFlow.Tests.Razorpay.RazorpayTestKit;

namespace RaptorFlow.Tests.Invoices;

/// <summary>
/// The billing events in the org's feed, each driven through the real path (GenerateInvoices, signed
/// Razorpay webhooks, the void API) and each carrying the resource exactly as the API's GET returns it.
/// </summary>
public sealed class BillingEventTests
{
    private static readonly DateTimeOffset MidOctober = new(2031, 10, 14, 9, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset NovemberRun = new(2031, 11, 1, 0, 30, 0, TimeSpan.Zero);

    private static string Transaction(string orgId, JsonElement domainEvent) =>
        $"/api/v1/orgs/{orgId}/ledger/transactions/{domainEvent.GetProperty("data").GetProperty("id").GetString()}";

    [Fact]
    public async Task Issuing_paying_and_refunding_an_invoice_emit_one_event_each_and_a_redelivered_webhook_none()
    {
        await using var world = await InvoiceWorld.StartAsync(MidOctober);
        var (owner, orgId) = await world.NewOrgAsync("pro");
        world.Clock.SetUtcNow(NovemberRun);
        var invoice = await world.CloseAsync(orgId);
        await world.CloseAsync(orgId); // the next run finds it done
        owner = await world.AgainAsync(owner);
        var invoicePath = $"/api/v1/orgs/{orgId}/invoices/{invoice.InvoiceId}";

        var issued = await world.App.SingleEventAsync(owner, orgId, EventTypes.InvoiceIssued);
        await AssertDataIsResourceAsync(issued, owner, invoicePath);

        var paymentId = NewId("pay");
        var captureEvent = NewId("evt");
        var captured = Captured(paymentId, invoice.TotalMinor, orgId, invoiceId: invoice.InvoiceId);
        await world.App.DeliverAndProcessAsync(captured, captureEvent);
        await world.App.DeliverAndProcessAsync(captured, captureEvent); // redelivered
        await world.App.DeliverAndProcessAsync(captured, NewId("evt")); // the same payment, as another event

        var paid = await world.App.SingleEventAsync(owner, orgId, EventTypes.InvoicePaid);
        await AssertDataIsResourceAsync(paid, owner, invoicePath);
        var capture = await world.App.SingleEventAsync(owner, orgId, EventTypes.PaymentCaptured);
        await AssertDataIsResourceAsync(capture, owner, Transaction(orgId, capture));
        Assert.Equal($"payment:{paymentId}", capture.GetProperty("data").GetProperty("idempotencyKey").GetString());

        var refundEvent = NewId("evt");
        var refunded = Event("refund.processed", ("refund", Refund(NewId("rfnd"), paymentId, 10_000)), ("payment", Payment(paymentId, invoice.TotalMinor, orgId, invoice.InvoiceId)));
        await world.App.DeliverAndProcessAsync(refunded, refundEvent);
        await world.App.DeliverAndProcessAsync(refunded, refundEvent);
        await world.App.DeliverAndProcessAsync(refunded, NewId("evt"));

        var refund = await world.App.SingleEventAsync(owner, orgId, EventTypes.RefundProcessed);
        await AssertDataIsResourceAsync(refund, owner, Transaction(orgId, refund));
        Assert.Single(await world.App.EventsOfTypeAsync(owner, orgId, EventTypes.PaymentCaptured));
        Assert.Single(await world.App.EventsOfTypeAsync(owner, orgId, EventTypes.InvoiceIssued));
    }

    [Fact]
    public async Task Voiding_an_invoice_emits_one_invoice_voided_with_the_void_invoice()
    {
        await using var world = await InvoiceWorld.StartAsync(MidOctober);
        var (owner, orgId) = await world.NewOrgAsync("pro");
        world.Clock.SetUtcNow(NovemberRun);
        var invoice = await world.CloseAsync(orgId);
        owner = await world.AgainAsync(owner);
        var invoicePath = $"/api/v1/orgs/{orgId}/invoices/{invoice.InvoiceId}";

        for (var i = 0; i < 2; i++)
        {
            using var voided = await owner.Client.PostAsync(new Uri(invoicePath + "/void", UriKind.Relative), null);
            Assert.Equal(HttpStatusCode.OK, voided.StatusCode);
        }

        var voidedEvent = await world.App.SingleEventAsync(owner, orgId, EventTypes.InvoiceVoided);
        await AssertDataIsResourceAsync(voidedEvent, owner, invoicePath);
        Assert.Equal("void", voidedEvent.GetProperty("data").GetProperty("status").GetString());
        Assert.Empty(await world.App.EventsOfTypeAsync(owner, orgId, EventTypes.InvoicePaid));
    }

    [Fact]
    public async Task Postings_in_suspense_emit_nothing_and_their_release_into_the_org_emits_once()
    {
        await using var world = await InvoiceWorld.StartAsync(MidOctober);
        var (owner, orgId) = await world.NewOrgAsync();
        var paymentId = NewId("pay");

        // No org named: the capture and the refund are parked in suspense.
        await world.App.DeliverAndProcessAsync(Captured(paymentId, 9_000, orgId: null), NewId("evt"));
        await world.App.DeliverAndProcessAsync(Event("refund.processed", ("refund", Refund(NewId("rfnd"), paymentId, 4_000)), ("payment", Payment(paymentId, 9_000, orgId: null))), NewId("evt"));
        var index = world.App.Storage.Table(world.App.Services.GetRequiredService<PendingEventsTable>().Name);
        var staged = index.Query<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq '~pending' and SourcePartition eq {PlatformLedger}")).ToList();
        Assert.Empty(staged);

        // An event naming the org releases both into it.
        await world.App.DeliverAndProcessAsync(Captured(paymentId, 9_000, orgId), NewId("evt"));
        Assert.Equal(5_000, await world.App.BalanceAsync(orgId, CustomerCredit));

        var capture = await world.App.SingleEventAsync(owner, orgId, EventTypes.PaymentCaptured);
        await AssertDataIsResourceAsync(capture, owner, Transaction(orgId, capture));
        var refund = await world.App.SingleEventAsync(owner, orgId, EventTypes.RefundProcessed);
        await AssertDataIsResourceAsync(refund, owner, Transaction(orgId, refund));
    }
}

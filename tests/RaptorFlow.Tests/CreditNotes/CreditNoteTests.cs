using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using RaptorFlow.Functions.CreditNotes;
using RaptorFlow.Functions.Events;
using RaptorFlow.Functions.Invoices;
using RaptorFlow.Tests.Events;
using RaptorFlow.Tests.Fixtures;
using RaptorFlow.Tests.Invoices;
using static RaptorFlow.Functions.Ledger.ChartOfAccounts;
using static RaptorFlow.Tests.Razorpay.RazorpayTestKit;

namespace RaptorFlow.Tests.CreditNotes;

/// <summary>Refunds of invoice payments, driven through signed webhooks against invoices the invoice run issued.</summary>
public sealed class CreditNoteTests
{
    private static readonly DateTimeOffset MidOctober = new(2032, 10, 14, 9, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset NovemberRun = new(2032, 11, 1, 0, 30, 0, TimeSpan.Zero);

    private static async Task<(InvoiceWorld World, TestUser Owner, string OrgId, InvoiceRow Invoice, string PaymentId)> PaidInvoiceAsync()
    {
        var world = await InvoiceWorld.StartAsync(MidOctober);
        var (owner, orgId) = await world.NewOrgAsync("pro");
        world.Clock.SetUtcNow(NovemberRun);
        var invoice = await world.CloseAsync(orgId);
        var paymentId = NewId("pay");
        await world.App.DeliverAndProcessAsync(Captured(paymentId, invoice.TotalMinor, orgId, invoiceId: invoice.InvoiceId), NewId("evt"));
        return (world, await world.AgainAsync(owner), orgId, invoice, paymentId);
    }

    private static string Refunded(string refundId, string paymentId, long amount, InvoiceRow invoice, string orgId, string name = "refund.processed") =>
        Event(name, ("refund", Refund(refundId, paymentId, amount, name == "refund.processed" ? "processed" : "failed")),
            ("payment", Payment(paymentId, invoice.TotalMinor, orgId, invoice.InvoiceId)));

    private static async Task<List<JsonElement>> NotesAsync(TestUser owner, string orgId)
    {
        var page = await owner.Client.GetFromJsonAsync<JsonElement>(new Uri($"/api/v1/orgs/{orgId}/credit-notes?limit=100", UriKind.Relative));
        return [.. page.GetProperty("data").EnumerateArray()];
    }

    [Fact]
    public async Task A_partial_refund_of_an_invoice_payment_issues_one_numbered_credit_note_reversing_tax_in_proportion_however_often_it_is_delivered()
    {
        var (world, owner, orgId, invoice, paymentId) = await PaidInvoiceAsync();
        await using var _ = world;
        var refundId = NewId("rfnd");
        var body = Refunded(refundId, paymentId, 10_000, invoice, orgId);
        var eventId = NewId("evt");
        await world.App.DeliverAndProcessAsync(body, eventId);
        await world.App.DeliverAndProcessAsync(body, eventId);
        await world.App.DeliverAndProcessAsync(body, NewId("evt"));

        var note = Assert.Single(await NotesAsync(owner, orgId));
        var tax = CreditNoteIssuer.TaxOf(10_000, invoice.TaxMinor, invoice.TotalMinor);
        Assert.Equal($"{world.Series}/CN/{FinancialYear.Of(NovemberRun)}/000001", note.GetProperty("number").GetString());
        Assert.Equal(invoice.InvoiceId, note.GetProperty("invoiceId").GetString());
        Assert.Equal(10_000, note.GetProperty("totalMinor").GetInt64());
        Assert.Equal(tax, note.GetProperty("taxMinor").GetInt64());
        Assert.Equal(10_000 - tax, note.GetProperty("netMinor").GetInt64());
        Assert.Equal("issued", note.GetProperty("status").GetString());

        // The note credits the org; the refund draws that credit back out; nothing is an expense.
        Assert.Equal(invoice.SubtotalMinor - (10_000 - tax), await world.App.BalanceAsync(orgId, Revenue));
        Assert.Equal(invoice.TaxMinor - tax, await world.App.BalanceAsync(orgId, GstPayable));
        Assert.Equal(0, await world.App.BalanceAsync(orgId, CustomerCredit));
        Assert.Equal(0, await world.App.BalanceAsync(orgId, Refunds));
        Assert.Equal(invoice.TotalMinor - 10_000, await world.App.BalanceAsync(orgId, RazorpayClearing));
        await world.App.AssertLedgerIsConsistentAsync(orgId);

        var issued = await world.App.SingleEventAsync(owner, orgId, EventTypes.CreditNoteIssued);
        Assert.Equal(note.GetProperty("id").GetString(), issued.GetProperty("data").GetProperty("id").GetString());
        Assert.Equal(note.GetProperty("number").GetString(), issued.GetProperty("data").GetProperty("number").GetString());
    }

    [Fact]
    public async Task Refunds_of_the_whole_invoice_reverse_exactly_its_tax_and_net_in_gap_free_notes_and_more_than_was_paid_is_not_covered()
    {
        var (world, owner, orgId, invoice, paymentId) = await PaidInvoiceAsync();
        await using var _ = world;
        // An odd first part, so each note's tax rounds; the last refund asks for more than is left of the payment.
        var first = invoice.TotalMinor / 3 + 1;
        await world.App.DeliverAndProcessAsync(Refunded(NewId("rfnd"), paymentId, first, invoice, orgId), NewId("evt"));
        await world.App.DeliverAndProcessAsync(Refunded(NewId("rfnd"), paymentId, invoice.TotalMinor - first, invoice, orgId), NewId("evt"));
        await world.App.DeliverAndProcessAsync(Refunded(NewId("rfnd"), paymentId, 500, invoice, orgId), NewId("evt"));

        var notes = await NotesAsync(owner, orgId);
        Assert.Equal(2, notes.Count);
        Assert.Equal(["000001", "000002"], notes.Select(n => n.GetProperty("number").GetString()![^6..]).Order().ToArray());
        Assert.Equal(invoice.TaxMinor, notes.Sum(n => n.GetProperty("taxMinor").GetInt64()));
        Assert.Equal(invoice.SubtotalMinor, notes.Sum(n => n.GetProperty("netMinor").GetInt64()));
        Assert.Equal(0, await world.App.BalanceAsync(orgId, Revenue));
        Assert.Equal(0, await world.App.BalanceAsync(orgId, GstPayable));

        // The uncovered 500 had no credit to draw on: an expense, never a negative customer_credit.
        Assert.Equal(0, await world.App.BalanceAsync(orgId, CustomerCredit));
        Assert.Equal(500, await world.App.BalanceAsync(orgId, Refunds));
        await world.App.AssertLedgerIsConsistentAsync(orgId);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_failed_refund_cancels_its_credit_note_which_keeps_its_number_and_whose_posting_is_reversed(bool failedFirst)
    {
        var (world, owner, orgId, invoice, paymentId) = await PaidInvoiceAsync();
        await using var _ = world;
        var refundId = NewId("rfnd");
        var processed = Refunded(refundId, paymentId, 8_000, invoice, orgId);
        var failed = Refunded(refundId, paymentId, 8_000, invoice, orgId, "refund.failed");
        foreach (var body in failedFirst ? [failed, processed] : new[] { processed, failed })
        {
            await world.App.DeliverAndProcessAsync(body, NewId("evt"));
        }

        var notes = await NotesAsync(owner, orgId);
        if (failedFirst)
        {
            Assert.Empty(notes);
        }
        else
        {
            var note = Assert.Single(notes);
            Assert.Equal("cancelled", note.GetProperty("status").GetString());
            Assert.EndsWith("/000001", note.GetProperty("number").GetString(), StringComparison.Ordinal);
        }

        Assert.Equal(invoice.SubtotalMinor, await world.App.BalanceAsync(orgId, Revenue));
        Assert.Equal(invoice.TaxMinor, await world.App.BalanceAsync(orgId, GstPayable));
        Assert.Equal(0, await world.App.BalanceAsync(orgId, CustomerCredit));
        Assert.Equal(invoice.TotalMinor, await world.App.BalanceAsync(orgId, RazorpayClearing));

        // A later refund of the same money is covered again, by the next number.
        await world.App.DeliverAndProcessAsync(Refunded(NewId("rfnd"), paymentId, 8_000, invoice, orgId), NewId("evt"));
        var again = (await NotesAsync(owner, orgId)).Where(n => n.GetProperty("status").GetString() == "issued").ToList();
        Assert.Equal(8_000, Assert.Single(again).GetProperty("totalMinor").GetInt64());
        Assert.EndsWith(failedFirst ? "/000001" : "/000002", again[0].GetProperty("number").GetString(), StringComparison.Ordinal);
        await world.App.AssertLedgerIsConsistentAsync(orgId);
    }

    [Fact]
    public async Task Credit_notes_page_are_404_to_another_org_and_print_under_the_invoice_csp()
    {
        var (world, owner, orgId, invoice, paymentId) = await PaidInvoiceAsync();
        await using var _ = world;
        for (var i = 0; i < 3; i++)
        {
            await world.App.DeliverAndProcessAsync(Refunded(NewId("rfnd"), paymentId, 1_000 + i, invoice, orgId), NewId("evt"));
        }

        var seen = new List<string>();
        string? cursor = null;
        do
        {
            var page = await owner.Client.GetFromJsonAsync<JsonElement>(new Uri($"/api/v1/orgs/{orgId}/credit-notes?limit=2" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor)), UriKind.Relative));
            Assert.True(page.GetProperty("data").GetArrayLength() <= 2);
            seen.AddRange(page.GetProperty("data").EnumerateArray().Select(n => n.GetProperty("id").GetString()!));
            cursor = page.GetProperty("nextCursor").GetString();
        }
        while (cursor is not null);
        Assert.Equal(3, seen.Distinct().Count());

        using var html = await owner.Client.GetAsync(new Uri($"/api/v1/orgs/{orgId}/credit-notes/{seen[0]}.html", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, html.StatusCode);
        Assert.Equal(InvoiceHtml.ContentSecurityPolicy, string.Join(";", html.Headers.GetValues("Content-Security-Policy")));
        var text = await html.Content.ReadAsStringAsync();
        Assert.Contains("Credit note", text, StringComparison.Ordinal);
        Assert.Contains(invoice.Number!, text, StringComparison.Ordinal);

        var (otherOwner, otherOrg) = await world.NewOrgAsync();
        otherOwner = await world.AgainAsync(otherOwner);
        foreach (var path in new[] { $"/api/v1/orgs/{otherOrg}/credit-notes/{seen[0]}", $"/api/v1/orgs/{otherOrg}/credit-notes/{seen[0]}.html", $"/api/v1/orgs/{orgId}/credit-notes/cn_nope" })
        {
            var client = path.Contains(otherOrg, StringComparison.Ordinal) ? otherOwner.Client : owner.Client;
            using var response = await client.GetAsync(new Uri(path, UriKind.Relative));
            await response.ShouldBeProblemAsync(HttpStatusCode.NotFound, "credit_note.not_found");
        }
    }
}

using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using RaptorFlow.Functions.CreditNotes;
using RaptorFlow.Functions.Events;
using RaptorFlow.Functions.Invoices;
using RaptorFlow.Functions.Mail;
using RaptorFlow.Functions.Payments;
using RaptorFlow.Functions.Razorpay;
using RaptorFlow.Functions.Webhooks;
using RaptorFlow.Tests.Events;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Mail;

/// <summary>The mail the event stream causes: billing mail to the billing contacts, disabled endpoints to owners and admins.</summary>
[Collection(MailCollection.Name)]
public sealed class EventMailTests(MailApp fixture)
{
    private const string HostileOrgName = "<script>x</script> Ünïcødé Ltd";

    private TestApp App => fixture.App;

    private InvoiceResponse Invoice(string orgId, InvoiceStatus status = InvoiceStatus.Issued, string? paymentUrl = "https://rzp.io/i/pay123", long paid = 0)
    {
        var now = fixture.Clock.GetUtcNow();
        return new InvoiceResponse("bill_" + Guid.NewGuid().ToString("N")[..20], orgId, "RF/2026-27/000042", status, now.AddMonths(-1), now, now, "2026-27", "pro",
            "INR", [], 100_000, 18_000, 118_000, paid, 118_000 - paid, paymentUrl, status == InvoiceStatus.Paid ? now : null, null, null);
    }

    private async Task<List<OutgoingMail>> DeliverAsync<T>(string orgId, string type, T data, string kind)
    {
        await fixture.MailSubscriber.OnPublishedAsync(fixture.Event(orgId, type, data), default);
        return await fixture.Mail.OfAsync(orgId, kind);
    }

    private static void AssertRecipients(IEnumerable<OutgoingMail> mails, params string?[] expected) =>
        Assert.Equal(expected.Order(), mails.Select(m => Assert.Single(m.To).Address).Order());

    [Fact]
    public async Task Invoice_issued_goes_to_owners_and_admins_with_total_due_and_the_razorpay_pay_link()
    {
        var team = await fixture.NewTeamAsync(HostileOrgName);
        var mails = await DeliverAsync(team.OrgId, EventTypes.InvoiceIssued, Invoice(team.OrgId), MailKinds.InvoiceIssued);

        AssertRecipients(mails, team.Owner.Email, team.Admin.Email);
        var mail = mails[0];
        Assert.True(mail.Transactional);
        Assert.Null(mail.UnsubscribeUrl);
        Assert.Contains("RF/2026-27/000042", mail.Subject, StringComparison.Ordinal);
        Assert.Contains("Total: INR 1,180.00. Amount due: INR 1,180.00.", mail.Text, StringComparison.Ordinal);
        Assert.Contains("https://rzp.io/i/pay123", mail.Text, StringComparison.Ordinal);
        Assert.Contains("href=\"https://rzp.io/i/pay123\"", mail.Html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script>", mail.Html, StringComparison.Ordinal);
        Assert.Contains("&lt;script&gt;x&lt;/script&gt; Ünïcødé Ltd", mail.Html, StringComparison.Ordinal);
        Assert.Contains(HostileOrgName, mail.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Billing_email_replaces_owners_and_admins_for_every_billing_mail()
    {
        var team = await fixture.NewTeamAsync();
        await MailApp.PatchOrgAsync(team.Owner, team.OrgId, new { billingEmail = "  Accounts@Example.TEST " });
        var org = await team.Owner.Client.GetFromJsonAsync<JsonElement>(new Uri($"/api/v1/orgs/{team.OrgId}", UriKind.Relative));
        Assert.Equal("accounts@example.test", org.GetProperty("billingEmail").GetString());

        AssertRecipients(await DeliverAsync(team.OrgId, EventTypes.InvoiceIssued, Invoice(team.OrgId, paymentUrl: null), MailKinds.InvoiceIssued), "accounts@example.test");
        AssertRecipients(await DeliverAsync(team.OrgId, EventTypes.InvoicePaid, Invoice(team.OrgId, InvoiceStatus.Paid, paid: 118_000), MailKinds.InvoicePaid), "accounts@example.test");

        // Without a Razorpay link the invoice mail links to the console's invoices.
        var issued = Assert.Single(await fixture.Mail.OfAsync(team.OrgId, MailKinds.InvoiceIssued));
        Assert.Contains($"{MailApp.ConsoleUrl}#/orgs/{team.OrgId}/invoices", issued.Text, StringComparison.Ordinal);

        await MailApp.PatchOrgAsync(team.Owner, team.OrgId, new { billingEmail = "" });
        var back = await DeliverAsync(team.OrgId, EventTypes.InvoicePaid, Invoice(team.OrgId, InvoiceStatus.Paid, paid: 118_000), MailKinds.InvoicePaid);
        AssertRecipients(back.Skip(1), team.Owner.Email, team.Admin.Email);
    }

    [Fact]
    public async Task Billing_email_that_is_not_an_address_is_refused_and_changes_nothing()
    {
        var team = await fixture.NewTeamAsync();
        using var response = await team.Owner.Client.PatchAsJsonAsync(new Uri($"/api/v1/orgs/{team.OrgId}", UriKind.Relative), new { billingEmail = "not an address", name = "Renamed" });
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation.failed");
        Assert.True(problem.GetProperty("errors").TryGetProperty("billingEmail", out _));
        var org = await team.Owner.Client.GetFromJsonAsync<JsonElement>(new Uri($"/api/v1/orgs/{team.OrgId}", UriKind.Relative));
        Assert.False(org.TryGetProperty("billingEmail", out var billingEmail) && billingEmail.ValueKind != JsonValueKind.Null, org.GetRawText());
        Assert.NotEqual("Renamed", org.GetProperty("name").GetString());
    }

    [Fact]
    public async Task Invoice_paid_and_credit_note_issued_go_to_the_billing_contacts_once_per_event()
    {
        var team = await fixture.NewTeamAsync();
        var paid = fixture.Event(team.OrgId, EventTypes.InvoicePaid, Invoice(team.OrgId, InvoiceStatus.Paid, paid: 118_000));
        await fixture.MailSubscriber.OnPublishedAsync(paid, default);
        await fixture.MailSubscriber.OnPublishedAsync(paid, default);
        var paidMails = await fixture.Mail.OfAsync(team.OrgId, MailKinds.InvoicePaid);
        Assert.Equal(2, paidMails.Select(m => m.MessageId).Distinct().Count());
        AssertRecipients(paidMails.DistinctBy(m => m.MessageId), team.Owner.Email, team.Admin.Email);
        Assert.Contains("INR 1,180.00", paidMails[0].Text, StringComparison.Ordinal);

        var now = fixture.Clock.GetUtcNow();
        var note = new CreditNoteResponse("cn_" + Guid.NewGuid().ToString("N")[..20], team.OrgId, "RF-CN/2026-27/000007", CreditNoteStatus.Issued, now, "2026-27",
            "bill_x", "RF/2026-27/000042", "pay_x", "rfnd_x", "INR", 50_000, 9_000, 59_000, null);
        var notes = await DeliverAsync(team.OrgId, EventTypes.CreditNoteIssued, note, MailKinds.CreditNoteIssued);
        AssertRecipients(notes, team.Owner.Email, team.Admin.Email);
        Assert.Contains("RF-CN/2026-27/000007", notes[0].Subject, StringComparison.Ordinal);
        Assert.Contains("INR 590.00", notes[0].Text, StringComparison.Ordinal);
        Assert.Contains($"#/orgs/{team.OrgId}/credit-notes", notes[0].Text, StringComparison.Ordinal);
        Assert.True(notes[0].Transactional);
    }

    [Fact]
    public async Task Razorpay_payment_failed_mails_the_billing_contacts_once_through_a_payment_failed_event()
    {
        var team = await fixture.NewTeamAsync();
        var paymentId = "pay_" + Guid.NewGuid().ToString("N")[..14];
        var body = JsonSerializer.SerializeToElement(new
        {
            @event = "payment.failed",
            payload = new
            {
                payment = new
                {
                    entity = new
                    {
                        id = paymentId,
                        amount = 250_000,
                        currency = "INR",
                        status = "failed",
                        method = "card",
                        error_description = "Card declined",
                        notes = new { org_id = team.OrgId },
                    },
                },
            },
        });
        var activity = App.Services.GetServices<IRazorpayEventObserver>().OfType<PaymentActivity>().Single();
        // Razorpay redelivers: the payment reads as failed once, so the event (and its mail) is one.
        await activity.ObserveAsync(new RazorpayEvent("evt_rzp_" + Guid.NewGuid().ToString("N")[..10], "payment.failed", body), default);
        await activity.ObserveAsync(new RazorpayEvent("evt_rzp_" + Guid.NewGuid().ToString("N")[..10], "payment.failed", body), default);

        var feed = await App.EventsOfTypeAsync(team.Owner, team.OrgId, EventTypes.PaymentFailed);
        Assert.Equal(paymentId, Assert.Single(feed).GetProperty("data").GetProperty("id").GetString());
        var mails = await fixture.Mail.OfAsync(team.OrgId, MailKinds.PaymentFailed);
        AssertRecipients(mails, team.Owner.Email, team.Admin.Email);
        Assert.Contains("INR 2,500.00", mails[0].Subject, StringComparison.Ordinal);
        Assert.True(mails[0].Transactional);
    }

    [Fact]
    public async Task Webhook_endpoint_disabled_tells_owners_and_admins_the_host_but_never_the_path_or_query()
    {
        var team = await fixture.NewTeamAsync();
        var now = fixture.Clock.GetUtcNow();
        var endpoint = new WebhookEndpointResponse("we_" + Guid.NewGuid().ToString("N")[..20], team.OrgId, "https://hooks.customer.test/in/s3cr3t-path?key=s3cr3t-query",
            null, ["invoice.issued"], false, "every delivery failed for 5 days", now, false, 10, now.AddDays(-9), now, now.AddDays(-5), null);
        var mails = await DeliverAsync(team.OrgId, EventTypes.WebhookEndpointDisabled, endpoint, MailKinds.WebhookEndpointDisabled);

        AssertRecipients(mails, team.Owner.Email, team.Admin.Email);
        var mail = mails[0];
        Assert.False(mail.Transactional);
        Assert.Contains("hooks.customer.test", mail.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cr3t", mail.Html + mail.Text + mail.Subject, StringComparison.Ordinal);
        Assert.StartsWith($"{MailApp.ApiUrl}api/v1/mail/unsubscribe?org={team.OrgId}&token=", mail.UnsubscribeUrl, StringComparison.Ordinal);
    }
}

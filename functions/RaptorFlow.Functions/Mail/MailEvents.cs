using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using RaptorFlow.Functions.CreditNotes;
using RaptorFlow.Functions.Events;
using RaptorFlow.Functions.Invitations;
using RaptorFlow.Functions.Invoices;
using RaptorFlow.Functions.Organizations;
using RaptorFlow.Functions.Payments;
using RaptorFlow.Functions.Platform.Access;
using RaptorFlow.Functions.Webhooks;

namespace RaptorFlow.Functions.Mail;

/// <summary>
/// Mail as a subscriber of the event stream: billing mail, accepted invitations and disabled
/// endpoints. Each mail's message ids are the event id and the recipient, so a redelivered event
/// writes the same messages, which the sender sends once.
/// </summary>
public sealed class MailEvents(
    Mailroom mailroom, MailRecipients recipients, OrgDirectory directory, IOptions<JsonOptions> json, IOptions<MailLinkSettings> links) : IDomainEventSubscriber
{
    private static readonly HashSet<string> Mailed =
    [
        EventTypes.InvitationAccepted, EventTypes.InvoiceIssued, EventTypes.InvoicePaid, EventTypes.PaymentFailed,
        EventTypes.CreditNoteIssued, EventTypes.WebhookEndpointDisabled,
    ];

    public async Task OnPublishedAsync(DomainEvent domainEvent, CancellationToken cancellationToken)
    {
        if (!Mailed.Contains(domainEvent.Type) || await directory.FindAsync(domainEvent.OrgId, cancellationToken) is not { IsDeleted: false } org)
        {
            return;
        }

        var (draft, to) = domainEvent.Type switch
        {
            EventTypes.InvitationAccepted => await AcceptedAsync(org, domainEvent, cancellationToken),
            EventTypes.WebhookEndpointDisabled => (EndpointDisabled(domainEvent), await recipients.OwnersAndAdminsAsync(org.OrgId, cancellationToken)),
            _ => (Billing(domainEvent), await recipients.BillingContactsAsync(org, cancellationToken)),
        };
        if (draft is not null)
        {
            await mailroom.SendAsync(org, draft, to, cancellationToken);
        }
    }

    private T Read<T>(DomainEvent domainEvent) =>
        domainEvent.Data.Deserialize<T>(json.Value.SerializerOptions) ?? throw new JsonException($"The data of event {domainEvent.Id} is null.");

    private string Console(string orgId, string screen) => links.Value.Console($"orgs/{orgId}/{screen}");

    private async Task<(MailDraft?, IReadOnlyList<MailRecipient>)> AcceptedAsync(OrgRow org, DomainEvent domainEvent, CancellationToken cancellationToken)
    {
        var invitation = Read<InvitationResponse>(domainEvent);
        // An invitation made with an API key, or by someone who has left, has nobody to tell.
        if (await recipients.MemberAsync(org.OrgId, invitation.InvitedBy, cancellationToken) is not { } inviter)
        {
            return (null, []);
        }

        var values = new Dictionary<string, string> { ["email"] = invitation.Email, ["role"] = invitation.Role.ToWire() };
        return (new MailDraft(MailKinds.InvitationAccepted, domainEvent.Id, values, Console(org.OrgId, "members")), [inviter]);
    }

    private MailDraft EndpointDisabled(DomainEvent domainEvent)
    {
        var endpoint = Read<WebhookEndpointResponse>(domainEvent);
        // The host only: an endpoint's path or query may hold a secret of the customer's.
        var host = Uri.TryCreate(endpoint.Url, UriKind.Absolute, out var url) ? url.Host : "(unknown host)";
        var values = new Dictionary<string, string>
        {
            ["host"] = host,
            ["endpointId"] = endpoint.Id,
            ["reason"] = endpoint.DisabledReason ?? "deliveries kept failing",
        };
        return new MailDraft(MailKinds.WebhookEndpointDisabled, domainEvent.Id, values, Console(domainEvent.OrgId, "webhooks"));
    }

    private MailDraft? Billing(DomainEvent domainEvent)
    {
        var orgId = domainEvent.OrgId;
        switch (domainEvent.Type)
        {
            case EventTypes.InvoiceIssued:
                {
                    var invoice = Read<InvoiceResponse>(domainEvent);
                    var values = new Dictionary<string, string>
                    {
                        ["number"] = invoice.Number,
                        ["period"] = $"{MailFormat.Date(invoice.PeriodStart)} to {MailFormat.Date(invoice.PeriodEnd.AddTicks(-1))}",
                        ["total"] = MailFormat.Money(invoice.TotalMinor, invoice.Currency),
                        ["due"] = MailFormat.Money(invoice.AmountDueMinor, invoice.Currency),
                    };
                    return new MailDraft(MailKinds.InvoiceIssued, domainEvent.Id, values, invoice.PaymentUrl ?? Console(orgId, "invoices"));
                }

            case EventTypes.InvoicePaid:
                {
                    var invoice = Read<InvoiceResponse>(domainEvent);
                    var values = new Dictionary<string, string>
                    {
                        ["number"] = invoice.Number,
                        ["total"] = MailFormat.Money(invoice.TotalMinor, invoice.Currency),
                        ["paid"] = MailFormat.Date(invoice.PaidAt ?? domainEvent.CreatedAt),
                    };
                    return new MailDraft(MailKinds.InvoicePaid, domainEvent.Id, values, Console(orgId, "invoices"));
                }

            case EventTypes.PaymentFailed:
                {
                    var payment = Read<PaymentResponse>(domainEvent);
                    var values = new Dictionary<string, string>
                    {
                        ["amount"] = MailFormat.Money(payment.AmountMinor, payment.Currency),
                        ["invoice"] = payment.InvoiceId is { } invoiceId ? $" (invoice {invoiceId})" : "",
                    };
                    return new MailDraft(MailKinds.PaymentFailed, domainEvent.Id, values, Console(orgId, payment.InvoiceId is null ? "payments" : "invoices"));
                }

            case EventTypes.CreditNoteIssued:
                {
                    var note = Read<CreditNoteResponse>(domainEvent);
                    var values = new Dictionary<string, string>
                    {
                        ["number"] = note.Number,
                        ["total"] = MailFormat.Money(note.TotalMinor, note.Currency),
                        ["invoice"] = note.InvoiceNumber ?? note.InvoiceId,
                    };
                    return new MailDraft(MailKinds.CreditNoteIssued, domainEvent.Id, values, Console(orgId, "credit-notes"));
                }

            default:
                return null;
        }
    }
}

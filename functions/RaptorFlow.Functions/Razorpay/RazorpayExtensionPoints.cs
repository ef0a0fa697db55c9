using RaptorFlow.Functions.Organizations;

namespace RaptorFlow.Functions.Razorpay;

/// <summary>An open invoice a payment can settle: what is still owed on it.</summary>
public sealed record OpenInvoice(string InvoiceId, string Currency, long OutstandingMinor);

/// <summary>
/// Lets the invoices feature tell the payment processor which invoice a payment settles. Until it is
/// registered, no invoice is open and every payment is credited to <c>customer_credit</c>.
/// </summary>
public interface IInvoiceSettlement
{
    /// <summary>The open invoice <paramref name="invoiceId"/> of the org, or null when it is not one (unknown, another org's, paid, void).</summary>
    Task<OpenInvoice?> FindOpenInvoiceAsync(string orgId, string invoiceId, CancellationToken cancellationToken);

    /// <summary>
    /// Applies a payment to the invoice before it is posted, once per payment: the amount the invoice
    /// took (at most what was still due; 0 when it is not an open invoice of the org in that currency).
    /// Called again for the same payment, it answers what it answered the first time.
    /// </summary>
    Task<long> ApplyPaymentAsync(string orgId, string invoiceId, string paymentId, long amountMinor, string currency, CancellationToken cancellationToken);
}

/// <summary>Whether an org exists; a payment naming an unknown org is posted to the platform's suspense ledger.</summary>
public interface IKnownOrganizations
{
    Task<bool> ExistsAsync(string orgId, CancellationToken cancellationToken);
}

/// <summary>What a consumer did with an event.</summary>
public sealed record ConsumerOutcome(bool Handled, string Detail);

/// <summary>
/// Another feature's handling of Razorpay events (e.g. <c>subscription.*</c> for billing). Runs
/// inside the queue function: it must be idempotent and may throw to have the event retried.
/// </summary>
public interface IRazorpayEventConsumer
{
    bool Handles(string eventName);

    Task<ConsumerOutcome> HandleAsync(RazorpayEvent razorpayEvent, CancellationToken cancellationToken);
}

internal sealed class NoOpenInvoices : IInvoiceSettlement
{
    public Task<OpenInvoice?> FindOpenInvoiceAsync(string orgId, string invoiceId, CancellationToken cancellationToken) =>
        Task.FromResult<OpenInvoice?>(null);

    public Task<long> ApplyPaymentAsync(string orgId, string invoiceId, string paymentId, long amountMinor, string currency, CancellationToken cancellationToken) =>
        Task.FromResult(0L);
}

/// <summary>An org is known while it exists and is not deleted; a payment for any other goes to suspense.</summary>
internal sealed class ActiveOrganizations(OrgDirectory directory) : IKnownOrganizations
{
    public Task<bool> ExistsAsync(string orgId, CancellationToken cancellationToken) => directory.IsActiveAsync(orgId, cancellationToken);
}

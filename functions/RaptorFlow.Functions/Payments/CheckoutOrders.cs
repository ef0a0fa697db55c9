using Microsoft.Extensions.Options;
using RaptorFlow.Functions.Invoices;
using RaptorFlow.Functions.Platform.Access;
using RaptorFlow.Functions.Platform.Secrets;
using RaptorFlow.Functions.Razorpay;

namespace RaptorFlow.Functions.Payments;

/// <summary>
/// Creates the Razorpay orders Checkout pays: one per invoice while what is due stays the same, and
/// one per prepaid-credit top-up. An order is recorded only once Razorpay created it, so an outage
/// leaves nothing behind.
/// </summary>
public sealed partial class CheckoutOrders(
    RazorpayClient razorpay, PaymentBook book, InvoiceBook invoices, SecretStore secrets, IOptions<PaymentsSettings> settings, TimeProvider time, ILogger<CheckoutOrders> logger)
{
    private const int MaxRounds = 3;

    public async Task<Outcome<CheckoutResponse>> ForInvoiceAsync(string orgId, string invoiceId, Caller caller, CancellationToken cancellationToken)
    {
        var invoice = await invoices.FindAsync(orgId, invoiceId, cancellationToken);
        if (invoice is null || invoice.IsDraft)
        {
            return PaymentProblems.InvoiceNotFound();
        }

        if (invoice.AmountDueMinor <= 0)
        {
            return PaymentProblems.InvoiceNotPayable(invoice.Status);
        }

        var keyId = await secrets.GetRequiredAsync(RazorpaySecrets.KeyId, cancellationToken);
        var notes = new Dictionary<string, string> { ["org_id"] = orgId, ["invoice_id"] = invoiceId };
        var description = $"Invoice {invoice.Number}";
        for (var round = 1; ; round++)
        {
            var current = await book.FindInvoiceCheckoutAsync(orgId, invoiceId, cancellationToken);
            if (current is not null && current.AmountMinor == invoice.AmountDueMinor && current.Currency == invoice.Currency)
            {
                return Answer(current.OrderId, keyId, current.AmountMinor, current.Currency, description, caller, notes);
            }

            var created = await CreateAsync(new CreateOrderRequest(invoice.AmountDueMinor, invoice.Currency, Receipt(invoice.Number ?? invoiceId), notes), cancellationToken);
            if (created.Value is not { } order)
            {
                return created.Problem!;
            }

            var pointer = current ?? new InvoiceCheckoutRow { PartitionKey = orgId, RowKey = PaymentKeys.InvoiceCheckout(invoiceId) };
            (pointer.OrderId, pointer.AmountMinor, pointer.Currency) = (order.Id, order.Amount, order.Currency);
            if (await book.TryRecordOrderAsync(Row(orgId, order, PaymentPurpose.Invoice, invoiceId), pointer, cancellationToken) || round >= MaxRounds)
            {
                return Answer(order.Id, keyId, order.Amount, order.Currency, description, caller, notes);
            }

            // Another request stored its order first: the next round reuses it (this one stays unpaid).
            LogOrderRace(logger, orgId, invoiceId, order.Id);
        }
    }

    public async Task<Outcome<CheckoutResponse>> ForCreditAsync(string orgId, long amountMinor, string currency, Caller caller, CancellationToken cancellationToken)
    {
        var keyId = await secrets.GetRequiredAsync(RazorpaySecrets.KeyId, cancellationToken);
        var notes = new Dictionary<string, string> { ["org_id"] = orgId, ["purpose"] = PaymentPurpose.CreditTopUp };
        var created = await CreateAsync(new CreateOrderRequest(amountMinor, currency, "topup_" + Guid.NewGuid().ToString("N")[..20], notes), cancellationToken);
        if (created.Value is not { } order)
        {
            return created.Problem!;
        }

        await book.TryRecordOrderAsync(Row(orgId, order, PaymentPurpose.CreditTopUp, null), null, cancellationToken);
        return Answer(order.Id, keyId, order.Amount, order.Currency, "Prepaid credit", caller, notes);
    }

    private async Task<Outcome<RazorpayOrder>> CreateAsync(CreateOrderRequest request, CancellationToken cancellationToken)
    {
        try
        {
            return await razorpay.CreateOrderAsync(request, cancellationToken);
        }
        catch (Exception ex) when (RazorpayClient.IsOutage(ex))
        {
            LogUnavailable(logger, ex);
            return PaymentProblems.Unavailable();
        }
        catch (RazorpayApiException ex)
        {
            LogRefused(logger, ex.Code, (int)ex.Status);
            return PaymentProblems.Rejected(ex.Code, ex.Description);
        }
    }

    private CheckoutOrderRow Row(string orgId, RazorpayOrder order, string purpose, string? invoiceId) => new()
    {
        PartitionKey = orgId,
        RowKey = PaymentKeys.Order(order.Id),
        OrderId = order.Id,
        Purpose = purpose,
        InvoiceId = invoiceId,
        AmountMinor = order.Amount,
        Currency = order.Currency,
        CreatedAt = time.GetUtcNow(),
    };

    private CheckoutResponse Answer(string orderId, string keyId, long amount, string currency, string description, Caller caller, Dictionary<string, string> notes) =>
        new(orderId, keyId, amount, currency, settings.Value.CheckoutName, description, new CheckoutPrefill(caller.Name, caller.Email), notes);

    /// <summary>Razorpay keeps receipts to 40 characters.</summary>
    private static string Receipt(string number) => number.Length <= 40 ? number : number[..40];

    [LoggerMessage(Level = LogLevel.Information, Message = "Two checkouts of invoice {InvoiceId} of org {OrgId} raced; order {OrderId} stays unused")]
    private static partial void LogOrderRace(ILogger logger, string orgId, string invoiceId, string orderId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Razorpay was unavailable creating an order")]
    private static partial void LogUnavailable(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Razorpay refused an order: {Code} ({Status})")]
    private static partial void LogRefused(ILogger logger, string code, int status);
}

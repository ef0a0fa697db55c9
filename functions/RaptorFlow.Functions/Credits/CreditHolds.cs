using RaptorFlow.Functions.Ledger;
using static RaptorFlow.Functions.Ledger.ChartOfAccounts;

namespace RaptorFlow.Functions.Credits;

/// <summary>
/// Prepaid credit set aside for a refund of a top-up while Razorpay carries it out. The hold moves
/// the amount from customer_credit to credit_held with the engine's not-below-zero guard, so
/// neither an invoice nor another refund can take the same credit meanwhile; the refund's posting
/// then takes it from credit_held, and a refund that is refused or fails gives it back.
/// </summary>
public sealed class CreditHolds(PostingEngine ledger)
{
    public static string HoldKey(string refundKey) => $"credit-hold:{refundKey}";

    public static string ReleaseKey(string refundKey) => HoldKey(refundKey) + ":released";

    /// <summary>Holds the amount for the refund (once per refund); false when the unspent credit does not cover it.</summary>
    public async Task<bool> HoldAsync(string orgId, string refundKey, string currency, long amountMinor, CancellationToken cancellationToken)
    {
        try
        {
            await ledger.PostAsync(new PostingBatch(orgId, HoldKey(refundKey), $"Prepaid credit held for refund {refundKey}",
                [PostingLine.Dr(CustomerCredit, currency, amountMinor), PostingLine.Cr(CreditHeld, currency, amountMinor)], NotBelowZero: [CustomerCredit]), cancellationToken);
            return true;
        }
        catch (InsufficientBalanceException)
        {
            return false;
        }
    }

    /// <summary>What is held for the refund and not given back: 0 when nothing was held (a refund made in Razorpay's dashboard, or one of an invoice payment).</summary>
    public async Task<long> HeldAsync(string orgId, string refundKey, CancellationToken cancellationToken)
    {
        if (await ledger.FindTransactionIdAsync(orgId, ReleaseKey(refundKey), cancellationToken) is not null
            || await ledger.FindTransactionIdAsync(orgId, HoldKey(refundKey), cancellationToken) is not { } held)
        {
            return 0;
        }

        return (await ledger.ReadAsync(orgId, held, cancellationToken))?.Lines.Where(l => l.Account == CreditHeld).Sum(l => l.Credit) ?? 0;
    }

    /// <summary>Gives the held credit back to customer_credit (once); nothing when nothing was held.</summary>
    public async Task ReleaseAsync(string orgId, string refundKey, CancellationToken cancellationToken)
    {
        if (await ledger.FindTransactionIdAsync(orgId, HoldKey(refundKey), cancellationToken) is { } held)
        {
            await ledger.ReverseAsync(orgId, held, ReleaseKey(refundKey), $"Refund {refundKey} did not happen; its credit is given back", cancellationToken);
        }
    }
}

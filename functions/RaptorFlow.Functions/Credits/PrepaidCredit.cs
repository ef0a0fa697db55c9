using RaptorFlow.Functions.Ledger;
using RaptorFlow.Functions.Platform.Storage;
using static RaptorFlow.Functions.Ledger.ChartOfAccounts;

namespace RaptorFlow.Functions.Credits;

/// <summary>A posting that drew on an org's customer_credit: its transaction (null when nothing was drawn) and how much it drew.</summary>
public sealed record CreditDrawing(string? TransactionId, long DrawnMinor);

/// <summary>
/// Draws on an org's prepaid credit (its <c>customer_credit</c> balance) without ever taking it below
/// zero: the amount is decided from the balance now, and the posting is made with the engine's
/// not-below-zero guard on that account, so a concurrent drawing that got there first makes this one
/// decide again. A key posted before, or by a concurrent drawing of the same key, answers what it drew then.
/// </summary>
public sealed class PrepaidCredit(PostingEngine ledger)
{
    /// <summary>
    /// Draws up to <paramref name="wantedMinor"/>. <paramref name="batchFor"/> builds the posting for the
    /// amount drawn (at most what is available; 0 allowed when the posting has other lines); it returns
    /// null when nothing is to be posted for that amount.
    /// </summary>
    public async Task<CreditDrawing> DrawAsync(
        string orgId, string idempotencyKey, string currency, long wantedMinor, Func<long, PostingBatch?> batchFor, CancellationToken cancellationToken)
    {
        return await OptimisticConcurrency.RunAsync<CreditDrawing>(
            ConcurrencyPolicy.Ledger,
            async _ =>
            {
                if (await ledger.FindTransactionIdAsync(orgId, idempotencyKey, cancellationToken) is { } posted)
                {
                    return new CreditDrawing(posted, await DrawnByAsync(orgId, posted, cancellationToken));
                }

                var available = await ledger.BalanceAsync(orgId, CustomerCredit, currency, cancellationToken);
                var drawn = Math.Clamp(available, 0, wantedMinor);
                if (batchFor(drawn) is not { } batch)
                {
                    return new CreditDrawing(null, 0);
                }

                try
                {
                    var result = await ledger.PostAsync(batch with { NotBelowZero = [CustomerCredit] }, cancellationToken);
                    return new CreditDrawing(result.TransactionId, result.Outcome == PostingOutcome.Posted ? drawn : await DrawnByAsync(orgId, result.TransactionId, cancellationToken));
                }
                catch (InsufficientBalanceException)
                {
                    // Another drawing took the credit first: decide again from what is left.
                    return Attempt.LostRace<CreditDrawing>();
                }
                catch (PostingConflictException)
                {
                    // A concurrent drawing under this key (another delivery of the same refund) posted
                    // first, having decided from another balance: the next attempt answers what it drew.
                    return Attempt.LostRace<CreditDrawing>();
                }
            },
            cancellationToken);
    }

    /// <summary>
    /// What a payment's capture left in customer_credit: all of a top-up or a payment naming no invoice,
    /// the excess of an overpayment, none of a payment its invoice absorbed or of a subscription charge
    /// (moved out again by <c>subscription-charge:{paymentId}</c> where its capture could not tell).
    /// </summary>
    public async Task<long> AddedByPaymentAsync(string orgId, string paymentId, CancellationToken cancellationToken)
    {
        async Task<long> NetAsync(string key, bool credited) =>
            await ledger.FindTransactionIdAsync(orgId, key, cancellationToken) is { } id
                ? (await ledger.ReadAsync(orgId, id, cancellationToken))?.Lines.Where(l => l.Account == CustomerCredit).Sum(l => credited ? l.Credit - l.Debit : l.Debit - l.Credit) ?? 0
                : 0;
        return Math.Max(0, await NetAsync($"payment:{paymentId}", credited: true) - await NetAsync($"subscription-charge:{paymentId}", credited: false));
    }

    /// <summary>The org's prepaid credit in a currency now.</summary>
    public Task<long> AvailableAsync(string orgId, string currency, CancellationToken cancellationToken) =>
        ledger.BalanceAsync(orgId, CustomerCredit, currency, cancellationToken);

    private async Task<long> DrawnByAsync(string orgId, string transactionId, CancellationToken cancellationToken) =>
        (await ledger.ReadAsync(orgId, transactionId, cancellationToken))?.Lines.Where(l => l.Account == CustomerCredit).Sum(l => l.Debit) ?? 0;
}

using System.Text.Json;
using RaptorFlow.Functions.Hosting;
using RaptorFlow.Functions.Platform.Telemetry;

namespace RaptorFlow.Functions.Ledger;

/// <summary>
/// Queue function on <c>check-ledger</c>: the ledger consistency check (every balance row equals
/// the sum of its lines; the trial balance nets to zero per currency). An imbalance is counted on
/// <c>raptorflow.ledger.consistency.imbalances</c> and logged as an error; the invocation still
/// succeeds, as retrying cannot repair a ledger.
/// </summary>
public sealed partial class CheckLedger(LedgerReader reader, ILogger<CheckLedger> logger) : IQueueFunction
{
    public const string FunctionName = "CheckLedger";

    public async Task RunAsync(QueueTriggerMessage message, CancellationToken cancellationToken)
    {
        var work = message.TryReadJson<CheckLedgerMessage>(CheckLedgerQueue.MessageJson);

        if (work is not { LedgerId.Length: > 0 })
        {
            LogUnreadable(logger, message.MessageId);
            return;
        }

        using var unit = UnitOfWork.ForLedger(logger, "check ledger", work.LedgerId);
        await CheckAsync(work.LedgerId, cancellationToken);
    }

    /// <summary>Checks one ledger; true when it is consistent.</summary>
    public async Task<bool> CheckAsync(string ledgerId, CancellationToken cancellationToken)
    {
        var discrepancies = await reader.CheckBalancesAsync(ledgerId, cancellationToken);
        var trial = await reader.TrialBalanceAsync(ledgerId, null, cancellationToken);
        foreach (var discrepancy in discrepancies)
        {
            AppMetrics.Count(AppMetrics.LedgerImbalances, "kind", "balance");
            LogBalanceDiscrepancy(logger, ledgerId, discrepancy.Account, discrepancy.Currency,
                discrepancy.RowDebits, discrepancy.RowCredits, discrepancy.LineDebits, discrepancy.LineCredits);
        }

        foreach (var currency in trial.Currencies.Where(c => !c.Balanced))
        {
            AppMetrics.Count(AppMetrics.LedgerImbalances, "kind", "trial");
            LogTrialImbalance(logger, ledgerId, currency.Currency, currency.TotalDebits, currency.TotalCredits);
        }

        var consistent = discrepancies.Count == 0 && trial.Balanced;
        AppMetrics.Count(AppMetrics.LedgerChecks, "result", consistent ? "consistent" : "inconsistent");
        return consistent;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Ledger {LedgerId} is inconsistent: balance row {Account} {Currency} holds {RowDebits}/{RowCredits} (debits/credits) but its lines sum to {LineDebits}/{LineCredits}")]
    private static partial void LogBalanceDiscrepancy(ILogger logger, string ledgerId, string account, string currency, long rowDebits, long rowCredits, long lineDebits, long lineCredits);

    [LoggerMessage(Level = LogLevel.Error, Message = "Ledger {LedgerId} is inconsistent: its {Currency} trial balance has debits {Debits} and credits {Credits}")]
    private static partial void LogTrialImbalance(ILogger logger, string ledgerId, string currency, long debits, long credits);

    [LoggerMessage(Level = LogLevel.Error, Message = "Queue message {MessageId} on the check-ledger queue is not a CheckLedger message; completed without checking")]
    private static partial void LogUnreadable(ILogger logger, string? messageId);
}

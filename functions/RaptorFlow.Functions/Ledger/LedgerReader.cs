using Azure.Data.Tables;
using RaptorFlow.Functions.Platform.Paging;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Ledger;

public sealed record LedgerLine(string Account, string Currency, long Debit, long Credit, string? Memo);

public sealed record LedgerTransaction(
    string Id,
    string IdempotencyKey,
    string Description,
    string? SourceEventId,
    string? Reverses,
    DateTimeOffset PostedAt,
    IReadOnlyList<LedgerLine> Lines);

public sealed record AccountBalance(string Currency, long DebitTotal, long CreditTotal, long Balance);

public sealed record AccountSummary(string Code, AccountType Type, string Description, IReadOnlyList<AccountBalance> Balances);

public sealed record TrialBalanceLine(string Account, long Debit, long Credit);

public sealed record CurrencyTrialBalance(string Currency, long TotalDebits, long TotalCredits, bool Balanced, IReadOnlyList<TrialBalanceLine> Accounts);

public sealed record TrialBalance(DateTimeOffset AsOf, bool Balanced, IReadOnlyList<CurrencyTrialBalance> Currencies);

public sealed record TransactionPage(IReadOnlyList<LedgerTransaction> Data, string? NextCursor);

/// <summary>An account whose balance row disagrees with the sum of its lines (should never happen).</summary>
/// <summary>One line posted to an account: a movement of its balance.</summary>
public sealed record AccountEntry(string TransactionId, string Currency, long Debit, long Credit, string? Memo, DateTimeOffset PostedAt);

public sealed record BalanceDiscrepancy(string Account, string Currency, long RowDebits, long RowCredits, long LineDebits, long LineCredits);

/// <summary>Reads one ledger partition: balances, the journal, trial balances and an integrity check.</summary>
public sealed class LedgerReader(StorageAccount storage, TimeProvider time)
{
    private TableClient Table => storage.Table(LedgerKeys.TableName);

    public async Task<IReadOnlyList<AccountSummary>> AccountsAsync(string ledgerId, CancellationToken cancellationToken)
    {
        var rows = await RangeAsync<BalanceRow>(ledgerId, LedgerKeys.BalancePrefix, null, cancellationToken);
        return ChartOfAccounts.AccountsOf(ledgerId).Select(account => new AccountSummary(
            account.Code,
            account.Type,
            account.Description,
            rows.Where(r => r.Account == account.Code)
                .OrderBy(r => r.Currency, StringComparer.Ordinal)
                .Select(r => new AccountBalance(r.Currency, r.DebitTotal, r.CreditTotal, Signed(account, r.DebitTotal, r.CreditTotal)))
                .ToList())).ToList();
    }

    /// <summary>The journal in posting order; <paramref name="after"/> is the last transaction id of the previous page.</summary>
    public async Task<TransactionPage> TransactionsAsync(string ledgerId, int limit, string? after, CancellationToken cancellationToken)
    {
        var from = after is null ? LedgerKeys.TransactionPrefix : LedgerKeys.Transaction(after) + "\0";
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {ledgerId} and RowKey ge {from} and RowKey lt {LedgerKeys.After(LedgerKeys.TransactionPrefix)}");
        var headers = new List<TransactionRow>(limit + 1);
        await foreach (var row in Table.QueryAsync<TransactionRow>(filter, maxPerPage: limit + 1, cancellationToken: cancellationToken))
        {
            headers.Add(row);
            if (headers.Count > limit)
            {
                break;
            }
        }

        var hasMore = headers.Count > limit;
        if (hasMore)
        {
            headers.RemoveAt(limit);
        }

        if (headers.Count == 0)
        {
            return new TransactionPage([], null);
        }

        // Line keys sort by transaction id, so one range query fetches every line of the page.
        var lines = await RangeAsync<LineRow>(ledgerId, LedgerKeys.LinePrefix + headers[0].TransactionId,
            LedgerKeys.LinePrefix + headers[^1].TransactionId + "|~", cancellationToken);
        var byTransaction = lines.ToLookup(l => l.TransactionId, StringComparer.Ordinal);
        var data = headers.Select(h => ToTransaction(h, byTransaction[h.TransactionId])).ToList();
        return new TransactionPage(data, hasMore ? headers[^1].TransactionId : null);
    }

    /// <summary>A page of the lines posted to one account, in posting order.</summary>
    public async Task<(IReadOnlyList<AccountEntry> Items, string? NextCursor)> EntriesAsync(string ledgerId, string account, PageRequest page, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {ledgerId} and RowKey ge {LedgerKeys.LinePrefix} and RowKey lt {LedgerKeys.After(LedgerKeys.LinePrefix)} and Account eq {account}");
        var (rows, next) = await Table.ReadPageAsync<LineRow>(filter, page, cancellationToken);
        return (rows.Select(r => new AccountEntry(r.TransactionId, r.Currency, r.Debit, r.Credit, r.Memo, r.PostedAt)).ToList(), next);
    }

    public Task<LedgerTransaction?> TransactionAsync(string ledgerId, string transactionId, CancellationToken cancellationToken) =>
        ReadTransactionAsync(Table, ledgerId, transactionId, cancellationToken);

    /// <summary>Every account's balance as of a moment, per currency; totals from the lines posted up to then.</summary>
    public async Task<TrialBalance> TrialBalanceAsync(string ledgerId, DateTimeOffset? asOf, CancellationToken cancellationToken)
    {
        var at = asOf ?? time.GetUtcNow();
        var sums = new Dictionary<(string Account, string Currency), (long Debit, long Credit)>();
        foreach (var line in await RangeAsync<LineRow>(ledgerId, LedgerKeys.LinePrefix, null, cancellationToken))
        {
            if (line.PostedAt > at)
            {
                continue;
            }

            var key = (line.Account, line.Currency);
            var (debit, credit) = sums.GetValueOrDefault(key);
            sums[key] = (checked(debit + line.Debit), checked(credit + line.Credit));
        }

        var currencies = sums.GroupBy(s => s.Key.Currency).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g =>
        {
            var accounts = g.OrderBy(s => s.Key.Account, StringComparer.Ordinal).Select(s =>
            {
                var net = s.Value.Debit - s.Value.Credit;
                return new TrialBalanceLine(s.Key.Account, Math.Max(net, 0), Math.Max(-net, 0));
            }).ToList();
            var debits = accounts.Sum(a => a.Debit);
            var credits = accounts.Sum(a => a.Credit);
            return new CurrencyTrialBalance(g.Key, debits, credits, debits == credits, accounts);
        }).ToList();

        return new TrialBalance(at, currencies.All(c => c.Balanced), currencies);
    }

    /// <summary>How many times a busy ledger is read again for a stable view before its check is reported as read.</summary>
    private const int StableReadAttempts = 10;

    /// <summary>How many checks a ledger gets before what they find is reported: one clean check clears it.</summary>
    private const int CheckRounds = 5;

    /// <summary>
    /// Balance rows that disagree with the sum of their lines. A posting in flight can make a single
    /// check disagree (Azurite applies a transaction's rows one by one, visible to readers); a real
    /// imbalance disagrees in every round, so only a check that disagrees <see cref="CheckRounds"/> times is reported.
    /// </summary>
    public async Task<IReadOnlyList<BalanceDiscrepancy>> CheckBalancesAsync(string ledgerId, CancellationToken cancellationToken)
    {
        for (var round = 1; ; round++)
        {
            var found = await CheckOnceAsync(ledgerId, cancellationToken);
            if (found.Count == 0 || round >= CheckRounds)
            {
                return found;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50 * round), cancellationToken);
        }
    }

    private async Task<IReadOnlyList<BalanceDiscrepancy>> CheckOnceAsync(string ledgerId, CancellationToken cancellationToken)
    {
        // Two queries are no snapshot: a posting committed between them shows its lines without its
        // balances. Balances read the same (by ETag) before and after the lines bracket a stable ledger.
        IReadOnlyList<BalanceRow> balances = await RangeAsync<BalanceRow>(ledgerId, LedgerKeys.BalancePrefix, null, cancellationToken);
        IReadOnlyList<LineRow> lines;
        for (var attempt = 1; ; attempt++)
        {
            lines = await RangeAsync<LineRow>(ledgerId, LedgerKeys.LinePrefix, null, cancellationToken);
            var after = await RangeAsync<BalanceRow>(ledgerId, LedgerKeys.BalancePrefix, null, cancellationToken);
            var stable = after.Count == balances.Count && after.Zip(balances).All(p => p.First.RowKey == p.Second.RowKey && p.First.ETag == p.Second.ETag);
            if (stable || attempt >= StableReadAttempts)
            {
                break;
            }

            balances = after;
        }

        var sums = lines.GroupBy(l => (l.Account, l.Currency))
            .ToDictionary(g => g.Key, g => (Debit: g.Sum(l => l.Debit), Credit: g.Sum(l => l.Credit)));
        var discrepancies = new List<BalanceDiscrepancy>();
        foreach (var row in balances)
        {
            var (debit, credit) = sums.GetValueOrDefault((row.Account, row.Currency));
            if (debit != row.DebitTotal || credit != row.CreditTotal)
            {
                discrepancies.Add(new BalanceDiscrepancy(row.Account, row.Currency, row.DebitTotal, row.CreditTotal, debit, credit));
            }
        }

        foreach (var ((account, currency), (debit, credit)) in sums)
        {
            if (!balances.Any(b => b.Account == account && b.Currency == currency))
            {
                discrepancies.Add(new BalanceDiscrepancy(account, currency, 0, 0, debit, credit));
            }
        }

        return discrepancies;
    }

    internal static async Task<LedgerTransaction?> ReadTransactionAsync(TableClient table, string ledgerId, string transactionId, CancellationToken cancellationToken)
    {
        var header = await table.GetEntityIfExistsAsync<TransactionRow>(ledgerId, LedgerKeys.Transaction(transactionId), cancellationToken: cancellationToken);
        if (!header.HasValue || header.Value is null)
        {
            return null;
        }

        var prefix = LedgerKeys.LinePrefix + transactionId + "|";
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {ledgerId} and RowKey ge {prefix} and RowKey lt {LedgerKeys.After(prefix)}");
        var lines = new List<LineRow>();
        await foreach (var line in table.QueryAsync<LineRow>(filter, cancellationToken: cancellationToken))
        {
            lines.Add(line);
        }

        return ToTransaction(header.Value, lines);
    }

    private static LedgerTransaction ToTransaction(TransactionRow header, IEnumerable<LineRow> lines) => new(
        header.TransactionId,
        header.IdempotencyKey,
        header.Description,
        header.SourceEventId,
        header.Reverses,
        header.PostedAt,
        lines.OrderBy(l => l.RowKey, StringComparer.Ordinal).Select(l => new LedgerLine(l.Account, l.Currency, l.Debit, l.Credit, l.Memo)).ToList());

    private static long Signed(LedgerAccount account, long debits, long credits) =>
        account.IsDebitNormal ? debits - credits : credits - debits;

    private async Task<List<T>> RangeAsync<T>(string ledgerId, string from, string? to, CancellationToken cancellationToken)
        where T : class, ITableEntity, new()
    {
        to ??= LedgerKeys.After(from);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {ledgerId} and RowKey ge {from} and RowKey lt {to}");
        var rows = new List<T>();
        await foreach (var row in Table.QueryAsync<T>(filter, cancellationToken: cancellationToken))
        {
            rows.Add(row);
        }

        return rows;
    }
}

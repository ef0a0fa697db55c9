using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Azure;
using Azure.Data.Tables;
using RaptorFlow.Functions.Events;
using RaptorFlow.Functions.Platform.Ids;
using RaptorFlow.Functions.Platform.Storage;
using RaptorFlow.Functions.Platform.Telemetry;

namespace RaptorFlow.Functions.Ledger;

/// <summary>
/// Posts balanced transactions into a ledger partition. Each posting is one entity-group
/// transaction: the idempotency row first (a duplicate fails the whole batch with 409), the
/// transaction header, its lines, then each touched balance row replaced with the ETag it was read
/// with (a concurrent posting fails the batch with 412 or 409; the engine re-reads and retries).
/// Within this process, postings to one ledger take turns and reuse the balance rows the previous
/// turn wrote (<see cref="LedgerTurns"/>), so only other instances' postings race.
/// Entries are never updated or deleted: corrections are reversals.
/// </summary>
public sealed partial class PostingEngine(StorageAccount storage, IdGenerator ids, TimeProvider time, ILogger<PostingEngine> logger, EventOutbox? outbox = null)
{
    /// <summary>Leaves room for the idempotency row, the header, one balance row per line and an outbox row within the 100-operation limit.</summary>
    public const int MaxLines = 48;

    private readonly LedgerTurns _turns = new();

    private TableClient Table => storage.Table(LedgerKeys.TableName);

    public async Task<PostingResult> PostAsync(PostingBatch batch, CancellationToken cancellationToken)
    {
        Validate(batch);
        var contentHash = ContentHash(batch);

        using var turn = await _turns.TakeAsync(batch.LedgerId, cancellationToken);

        // One id, time and event for every attempt: nothing of a failed attempt was written, and the
        // event's data must be the transaction that commits.
        var transactionId = ids.New("txn");
        var postedAt = time.GetUtcNow();
        var staged = batch.EventType is { } type && batch.LedgerId != ChartOfAccounts.PlatformLedger && outbox is not null
            ? await outbox.StageAsync(batch.LedgerId, type, AsPosted(batch, transactionId, postedAt), LedgerKeys.TableName, batch.LedgerId, cancellationToken)
            : null;
        var result = await OptimisticConcurrency.RunAsync<PostingResult>(
            ConcurrencyPolicy.Ledger,
            async attempt =>
            {
                // No idempotency read up front: the batch's first row is the key, so a duplicate fails
                // the batch with 409 and is looked up then (and its staged event is never committed).
                var balances = Covers(_turns.Remembered(batch.LedgerId), batch) ?? await ReadBalancesAsync(batch, cancellationToken);
                if (Overdrawn(batch, balances) is not null)
                {
                    // Remembered rows may be stale (another instance posted): decide on what storage holds.
                    _turns.Forget(batch.LedgerId);
                    balances = await ReadBalancesAsync(batch, cancellationToken);
                    if (Overdrawn(batch, balances) is { } overdrawn)
                    {
                        // A replay of a posting made when the balance was higher is still the same posting.
                        if (await FindByIdempotencyKeyAsync(batch.LedgerId, batch.IdempotencyKey, cancellationToken) is { } existing)
                        {
                            return Duplicate(batch, existing, contentHash);
                        }

                        throw overdrawn;
                    }
                }

                var actions = BuildActions(batch, transactionId, postedAt, contentHash, balances);
                if (staged is not null)
                {
                    actions.Add(staged.Action);
                }

                try
                {
                    var responses = await Table.SubmitTransactionAsync(actions, cancellationToken);
                    RememberWritten(batch.LedgerId, balances, actions, responses.Value);
                    LogPosted(logger, transactionId, batch.LedgerId, batch.IdempotencyKey, attempt);
                    return new PostingResult(transactionId, PostingOutcome.Posted);
                }
                catch (RequestFailedException ex) when (ex.Status is 409 or 412)
                {
                    // Nothing was written. Either the key was already posted, or a balance row moved
                    // under us (another instance posted): read again and retry.
                    _turns.Forget(batch.LedgerId);
                    if (ex.Status == 409 && await FindByIdempotencyKeyAsync(batch.LedgerId, batch.IdempotencyKey, cancellationToken) is { } existing)
                    {
                        return Duplicate(batch, existing, contentHash);
                    }

                    throw;
                }
            },
            cancellationToken,
            onRetry: (attempt, status) => LogRetry(logger, batch.LedgerId, batch.IdempotencyKey, attempt, status ?? 0));
        AppMetrics.LedgerPostings.Add(1,
            new KeyValuePair<string, object?>("ledger", batch.LedgerId == ChartOfAccounts.PlatformLedger ? "platform" : "org"),
            new KeyValuePair<string, object?>("outcome", result.Outcome == PostingOutcome.Posted ? "posted" : "duplicate"));
        if (staged is not null && outbox is not null && result.Outcome == PostingOutcome.Posted)
        {
            await outbox.PublishAsync(staged, cancellationToken);
        }

        return result;
    }

    /// <summary>The transaction as <see cref="LedgerReader"/> will read it once posted.</summary>
    private static LedgerTransaction AsPosted(PostingBatch batch, string transactionId, DateTimeOffset postedAt) => new(
        transactionId,
        batch.IdempotencyKey,
        batch.Description,
        batch.SourceEventId,
        batch.Reverses,
        postedAt,
        batch.Lines.Select(l => new LedgerLine(l.Account, l.Currency, l.Debit, l.Credit, l.Memo)).ToList());

    /// <summary>Posts the mirror image of a transaction, once per reversal key.</summary>
    public async Task<PostingResult> ReverseAsync(string ledgerId, string transactionId, string idempotencyKey, string reason, CancellationToken cancellationToken)
    {
        var original = await LedgerReader.ReadTransactionAsync(Table, ledgerId, transactionId, cancellationToken)
            ?? throw new InvalidPostingException($"Transaction {transactionId} does not exist in ledger {ledgerId}.");
        if (original.Reverses is not null)
        {
            throw new InvalidPostingException("A reversal is not reversed; post a new transaction instead.");
        }

        var lines = original.Lines.Select(l => new PostingLine(l.Account, l.Currency, l.Credit, l.Debit, l.Memo)).ToList();
        return await PostAsync(new PostingBatch(ledgerId, idempotencyKey, $"Reversal of {transactionId}: {reason}", lines, original.SourceEventId, transactionId), cancellationToken);
    }

    public Task<LedgerTransaction?> ReadAsync(string ledgerId, string transactionId, CancellationToken cancellationToken) =>
        LedgerReader.ReadTransactionAsync(Table, ledgerId, transactionId, cancellationToken);

    /// <summary>The transaction an idempotency key was posted as, if it was.</summary>
    public async Task<string?> FindTransactionIdAsync(string ledgerId, string idempotencyKey, CancellationToken cancellationToken)
    {
        ValidateKey(idempotencyKey);
        return (await FindByIdempotencyKeyAsync(ledgerId, idempotencyKey, cancellationToken))?.TransactionId;
    }

    private async Task<IdempotencyRow?> FindByIdempotencyKeyAsync(string ledgerId, string key, CancellationToken cancellationToken)
    {
        var row = await Table.GetEntityIfExistsAsync<IdempotencyRow>(ledgerId, LedgerKeys.Idempotency(key), cancellationToken: cancellationToken);
        return row.HasValue ? row.Value : null;
    }

    private PostingResult Duplicate(PostingBatch batch, IdempotencyRow existing, string contentHash)
    {
        if (existing.ContentHash != contentHash)
        {
            LogConflict(logger, batch.LedgerId, batch.IdempotencyKey, existing.TransactionId);
            throw new PostingConflictException(
                $"Idempotency key '{batch.IdempotencyKey}' was already posted as {existing.TransactionId} with different lines.");
        }

        return new PostingResult(existing.TransactionId, PostingOutcome.AlreadyPosted);
    }

    /// <summary>The balance of an account on its normal side, in one currency: what <paramref name="ledgerId"/> holds now.</summary>
    public async Task<long> BalanceAsync(string ledgerId, string account, string currency, CancellationToken cancellationToken)
    {
        var row = await Table.GetEntityIfExistsAsync<BalanceRow>(ledgerId, LedgerKeys.Balance(account, currency), cancellationToken: cancellationToken);
        return row.HasValue ? Normal(ledgerId, account, row.Value!.DebitTotal, row.Value.CreditTotal) : 0;
    }

    private static long Normal(string ledgerId, string account, long debits, long credits) =>
        ChartOfAccounts.Find(ledgerId, account) is { IsDebitNormal: false } ? credits - debits : debits - credits;

    /// <summary>The refusal for the first guarded account the batch would take below zero, given the balances read.</summary>
    private static InsufficientBalanceException? Overdrawn(PostingBatch batch, IReadOnlyDictionary<string, BalanceRow> balances)
    {
        foreach (var account in batch.NotBelowZero ?? [])
        {
            foreach (var currency in batch.Lines.Where(l => l.Account == account).Select(l => l.Currency).Distinct(StringComparer.Ordinal))
            {
                var row = balances.GetValueOrDefault(LedgerKeys.Balance(account, currency));
                var debits = (row?.DebitTotal ?? 0) + batch.Lines.Where(l => l.Account == account && l.Currency == currency).Sum(l => l.Debit);
                var credits = (row?.CreditTotal ?? 0) + batch.Lines.Where(l => l.Account == account && l.Currency == currency).Sum(l => l.Credit);
                if (Normal(batch.LedgerId, account, debits, credits) < 0)
                {
                    return new InsufficientBalanceException(batch.LedgerId, account, currency, Normal(batch.LedgerId, account, row?.DebitTotal ?? 0, row?.CreditTotal ?? 0));
                }
            }
        }

        return null;
    }

    /// <summary>The remembered balance rows, if they include every row the batch touches.</summary>
    private static IReadOnlyDictionary<string, BalanceRow>? Covers(IReadOnlyDictionary<string, BalanceRow>? remembered, PostingBatch batch) =>
        remembered is not null && batch.Lines.All(l => remembered.ContainsKey(LedgerKeys.Balance(l.Account, l.Currency))) ? remembered : null;

    /// <summary>
    /// Keeps what this batch wrote, with the ETags storage answered, beside the rows it did not
    /// touch, so the ledger's next posting here needs no reads.
    /// </summary>
    private void RememberWritten(string ledgerId, IReadOnlyDictionary<string, BalanceRow> before, List<TableTransactionAction> actions, IReadOnlyList<Response> responses)
    {
        var rows = new Dictionary<string, BalanceRow>(before, StringComparer.Ordinal);
        for (var i = 0; i < actions.Count; i++)
        {
            if (actions[i].Entity is not BalanceRow written)
            {
                continue;
            }

            if (i >= responses.Count || responses[i].Headers.ETag is not { } etag)
            {
                _turns.Forget(ledgerId);
                return;
            }

            written.ETag = etag;
            rows[written.RowKey] = written;
        }

        _turns.Remember(ledgerId, rows);
    }

    /// <summary>Point reads of the balance rows the batch touches: a few rows, however large the ledger grows.</summary>
    private async Task<IReadOnlyDictionary<string, BalanceRow>> ReadBalancesAsync(PostingBatch batch, CancellationToken cancellationToken)
    {
        var keys = batch.Lines.Select(l => LedgerKeys.Balance(l.Account, l.Currency)).Distinct(StringComparer.Ordinal).ToList();
        var rows = await Task.WhenAll(keys.Select(key =>
            Table.GetEntityIfExistsAsync<BalanceRow>(batch.LedgerId, key, cancellationToken: cancellationToken)));
        var balances = new Dictionary<string, BalanceRow>(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            if (row.HasValue && row.Value is { } balance)
            {
                balances[balance.RowKey] = balance;
            }
        }

        return balances;
    }

    private static List<TableTransactionAction> BuildActions(PostingBatch batch, string transactionId, DateTimeOffset now, string contentHash, IReadOnlyDictionary<string, BalanceRow> balances)
    {
        var ledger = batch.LedgerId;
        var actions = new List<TableTransactionAction>(batch.Lines.Count * 2 + 3)
        {
            new(TableTransactionActionType.Add, new IdempotencyRow
            {
                PartitionKey = ledger,
                RowKey = LedgerKeys.Idempotency(batch.IdempotencyKey),
                TransactionId = transactionId,
                ContentHash = contentHash,
            }),
            new(TableTransactionActionType.Add, new TransactionRow
            {
                PartitionKey = ledger,
                RowKey = LedgerKeys.Transaction(transactionId),
                TransactionId = transactionId,
                IdempotencyKey = batch.IdempotencyKey,
                Description = batch.Description,
                SourceEventId = batch.SourceEventId,
                Reverses = batch.Reverses,
                PostedAt = now,
                LineCount = batch.Lines.Count,
            }),
        };

        var touched = new Dictionary<string, BalanceRow>(StringComparer.Ordinal);
        for (var i = 0; i < batch.Lines.Count; i++)
        {
            var line = batch.Lines[i];
            actions.Add(new(TableTransactionActionType.Add, new LineRow
            {
                PartitionKey = ledger,
                RowKey = LedgerKeys.Line(transactionId, i),
                TransactionId = transactionId,
                Account = line.Account,
                Currency = line.Currency,
                Debit = line.Debit,
                Credit = line.Credit,
                Memo = line.Memo,
                PostedAt = now,
            }));

            var key = LedgerKeys.Balance(line.Account, line.Currency);
            if (!touched.TryGetValue(key, out var balance))
            {
                balance = balances.TryGetValue(key, out var current)
                    ? new BalanceRow
                    {
                        PartitionKey = ledger,
                        RowKey = key,
                        ETag = current.ETag,
                        Account = current.Account,
                        Currency = current.Currency,
                        DebitTotal = current.DebitTotal,
                        CreditTotal = current.CreditTotal,
                        LineCount = current.LineCount,
                    }
                    : new BalanceRow { PartitionKey = ledger, RowKey = key, Account = line.Account, Currency = line.Currency };
                touched[key] = balance;
            }

            balance.DebitTotal = checked(balance.DebitTotal + line.Debit);
            balance.CreditTotal = checked(balance.CreditTotal + line.Credit);
            balance.LineCount++;
            balance.UpdatedAt = now;
        }

        foreach (var balance in touched.Values)
        {
            // A new balance row is inserted (409 if another posting created it first); an existing
            // one is replaced only if unchanged since we read it (412 otherwise).
            actions.Add(balance.ETag == default
                ? new TableTransactionAction(TableTransactionActionType.Add, balance)
                : new TableTransactionAction(TableTransactionActionType.UpdateReplace, balance, balance.ETag));
        }

        return actions;
    }

    private static void Validate(PostingBatch batch)
    {
        if (batch.LedgerId != ChartOfAccounts.PlatformLedger && !IdGenerator.IsWellFormed(batch.LedgerId, "org"))
        {
            throw new InvalidPostingException($"'{batch.LedgerId}' is neither an org id nor the platform ledger.");
        }

        ValidateKey(batch.IdempotencyKey);
        if (string.IsNullOrWhiteSpace(batch.Description) || batch.Description.Length > 500)
        {
            throw new InvalidPostingException("A posting needs a description of at most 500 characters.");
        }

        if (batch.Lines.Count is < 2 or > MaxLines)
        {
            throw new InvalidPostingException($"A posting has between 2 and {MaxLines} lines.");
        }

        var net = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var line in batch.Lines)
        {
            if (ChartOfAccounts.Find(batch.LedgerId, line.Account) is null)
            {
                throw new InvalidPostingException($"'{line.Account}' is not an account of ledger {batch.LedgerId}.");
            }

            if (!IsCurrency(line.Currency))
            {
                throw new InvalidPostingException($"'{line.Currency}' is not an ISO 4217 currency code.");
            }

            if (line.Debit < 0 || line.Credit < 0 || (line.Debit == 0) == (line.Credit == 0))
            {
                throw new InvalidPostingException("Each line debits or credits a positive amount, never both.");
            }

            if (line.Memo is { Length: > 500 })
            {
                throw new InvalidPostingException("A line memo is at most 500 characters.");
            }

            net[line.Currency] = checked(net.GetValueOrDefault(line.Currency) + line.Debit - line.Credit);
        }

        var unbalanced = net.Where(n => n.Value != 0).Select(n => n.Key).ToList();
        if (unbalanced.Count > 0)
        {
            throw new InvalidPostingException($"Debits and credits differ in {string.Join(", ", unbalanced)}.");
        }
    }

    private static void ValidateKey(string key)
    {
        if (!IdempotencyKeyShape().IsMatch(key))
        {
            throw new InvalidPostingException("An idempotency key is 1-200 characters of letters, digits, '_', '-', '.' and ':'.");
        }
    }

    private static bool IsCurrency(string code) => code.Length == 3 && code.All(char.IsAsciiLetterUpper);

    /// <summary>What makes two postings with one key the same posting: the ledger, the lines and what they reverse.</summary>
    private static string ContentHash(PostingBatch batch)
    {
        var text = new StringBuilder().Append(batch.LedgerId).Append('\n').Append(batch.Reverses).Append('\n');
        foreach (var line in batch.Lines)
        {
            text.Append(CultureInfo.InvariantCulture, $"{line.Account}|{line.Currency}|{line.Debit}|{line.Credit}\n");
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    [GeneratedRegex("^[A-Za-z0-9_.:-]{1,200}$")]
    private static partial Regex IdempotencyKeyShape();

    [LoggerMessage(Level = LogLevel.Information, Message = "Posted {TransactionId} to ledger {LedgerId} for {IdempotencyKey} (attempt {Attempt})")]
    private static partial void LogPosted(ILogger logger, string transactionId, string ledgerId, string idempotencyKey, int attempt);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Posting {IdempotencyKey} to ledger {LedgerId} lost a race (attempt {Attempt}, status {Status}); retrying")]
    private static partial void LogRetry(ILogger logger, string ledgerId, string idempotencyKey, int attempt, int status);

    [LoggerMessage(Level = LogLevel.Error, Message = "Idempotency key {IdempotencyKey} in ledger {LedgerId} was already posted as {TransactionId} with different lines")]
    private static partial void LogConflict(ILogger logger, string ledgerId, string idempotencyKey, string transactionId);
}

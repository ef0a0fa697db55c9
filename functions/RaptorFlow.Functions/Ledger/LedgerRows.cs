using Azure;
using Azure.Data.Tables;

namespace RaptorFlow.Functions.Ledger;

/// <summary>
/// Row keys of the <c>Ledger</c> table. One ledger (an org id, or <c>platform</c>) is one
/// partition, so a posting's rows and the balances it moves commit in one entity-group transaction.
/// </summary>
internal static class LedgerKeys
{
    public const string TableName = "Ledger";

    public static string Idempotency(string key) => "idem|" + key;

    public static string Transaction(string transactionId) => "txn|" + transactionId;

    public static string Line(string transactionId, int index) => $"line|{transactionId}|{index:D3}";

    public static string Balance(string account, string currency) => $"bal|{account}|{currency}";

    public const string TransactionPrefix = "txn|";
    public const string LinePrefix = "line|";
    public const string BalancePrefix = "bal|";

    /// <summary>The first key after every key starting with <paramref name="prefix"/>.</summary>
    public static string After(string prefix) => prefix[..^1] + (char)(prefix[^1] + 1);
}

/// <summary>Claims an idempotency key for one transaction; inserted first so a duplicate fails the whole batch.</summary>
internal sealed class IdempotencyRow : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public string TransactionId { get; set; } = "";
    public string ContentHash { get; set; } = "";
}

internal sealed class TransactionRow : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public string TransactionId { get; set; } = "";
    public string IdempotencyKey { get; set; } = "";
    public string Description { get; set; } = "";
    public string? SourceEventId { get; set; }
    public string? Reverses { get; set; }
    public DateTimeOffset PostedAt { get; set; }
    public int LineCount { get; set; }
}

internal sealed class LineRow : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public string TransactionId { get; set; } = "";
    public string Account { get; set; } = "";
    public string Currency { get; set; } = "";
    public long Debit { get; set; }
    public long Credit { get; set; }
    public string? Memo { get; set; }
    public DateTimeOffset PostedAt { get; set; }
}

/// <summary>Running totals of one account in one currency; replaced with its ETag by every posting that touches it.</summary>
internal sealed class BalanceRow : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
    public string Account { get; set; } = "";
    public string Currency { get; set; } = "";
    public long DebitTotal { get; set; }
    public long CreditTotal { get; set; }
    public long LineCount { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

using System.Globalization;
using Azure;
using Azure.Data.Tables;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Invoices;

/// <summary>India's financial year, April to March, decided by a moment's date in IST.</summary>
public static class FinancialYear
{
    /// <summary>IST has no daylight saving; a fixed offset needs no time-zone database (the container runs with invariant globalization).</summary>
    public static readonly TimeSpan Ist = new(5, 30, 0);

    /// <summary>The year label of <paramref name="at"/>, e.g. <c>2026-27</c> for any moment from 1 April 2026 00:00 IST to 31 March 2027 23:59 IST.</summary>
    public static string Of(DateTimeOffset at)
    {
        var local = at.ToOffset(Ist);
        var startYear = local.Month >= 4 ? local.Year : local.Year - 1;
        return string.Create(CultureInfo.InvariantCulture, $"{startYear}-{(startYear + 1) % 100:D2}");
    }
}

/// <summary>
/// Gap-free invoice numbers per series and financial year. A series' year is one partition of
/// <c>InvoiceNumbers</c> holding a counter row and, per number taken, a row naming its invoice
/// and a row naming its number. Taking a number is one entity-group transaction: insert the
/// invoice's reservation, insert the number's row, advance the counter with its ETag. So a number
/// is never taken without being bound to an invoice id, two invoices never share one, and a retry
/// for the same invoice finds its reservation instead of taking another. The invoice exists (as a
/// draft) before its number is taken, and the timer finishes every draft, so every number taken is
/// eventually printed on its invoice: no holes.
/// </summary>
public sealed partial class InvoiceNumbering(StorageAccount storage, ILogger<InvoiceNumbering> logger)
{
    public const string TableName = "InvoiceNumbers";
    private const string CounterKey = "counter";

    private TableClient Table => storage.Table(TableName);

    public static string Partition(string series, string financialYear) => $"{series}|{financialYear}";

    public static string Format(string series, string financialYear, long sequence) =>
        string.Create(CultureInfo.InvariantCulture, $"{series}/{financialYear}/{sequence:D6}");

    /// <summary>The number of <paramref name="invoiceId"/> in the series' year: the one it was given before, or the next free one.</summary>
    public async Task<string> NumberAsync(string series, string financialYear, string invoiceId, string orgId, CancellationToken cancellationToken)
    {
        var partition = Partition(series, financialYear);
        return await OptimisticConcurrency.RunAsync<string>(
            ConcurrencyPolicy.Numbering,
            async attempt =>
            {
                var reserved = await Table.GetEntityIfExistsAsync<NumberReservationRow>(partition, ReservationKey(invoiceId), cancellationToken: cancellationToken);
                if (reserved.HasValue)
                {
                    return reserved.Value!.Number;
                }

                var counter = await Table.GetEntityIfExistsAsync<NumberCounterRow>(partition, CounterKey, cancellationToken: cancellationToken);
                var last = counter.HasValue ? counter.Value!.LastSequence : 0;
                var sequence = last + 1;
                var number = Format(series, financialYear, sequence);
                var next = new NumberCounterRow { PartitionKey = partition, RowKey = CounterKey, LastSequence = sequence };
                TableTransactionAction[] actions =
                [
                    new(TableTransactionActionType.Add, new NumberReservationRow { PartitionKey = partition, RowKey = ReservationKey(invoiceId), Number = number, Sequence = sequence }),
                    new(TableTransactionActionType.Add, new NumberUseRow { PartitionKey = partition, RowKey = SequenceKey(sequence), InvoiceId = invoiceId, OrgId = orgId }),
                    counter.HasValue
                        ? new(TableTransactionActionType.UpdateReplace, next, counter.Value!.ETag)
                        : new(TableTransactionActionType.Add, next),
                ];
                // 409/412: another run took the next number (or reserved this invoice's) first; nothing was written.
                await Table.SubmitTransactionAsync(actions, cancellationToken);
                LogNumbered(logger, invoiceId, number, attempt);
                return number;
            },
            cancellationToken);
    }

    /// <summary>The numbers taken in a series' year, in order, with the invoice each names (for audits of the sequence).</summary>
    public async Task<IReadOnlyList<(long Sequence, string InvoiceId, string OrgId)>> TakenAsync(string series, string financialYear, CancellationToken cancellationToken)
    {
        var partition = Partition(series, financialYear);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey ge {"no|"} and RowKey lt {"no}"}");
        var taken = new List<(long, string, string)>();
        await foreach (var row in Table.QueryAsync<NumberUseRow>(filter, cancellationToken: cancellationToken))
        {
            taken.Add((long.Parse(row.RowKey[3..], CultureInfo.InvariantCulture), row.InvoiceId, row.OrgId));
        }

        return taken;
    }

    private static string ReservationKey(string invoiceId) => "for|" + invoiceId;

    private static string SequenceKey(long sequence) => string.Create(CultureInfo.InvariantCulture, $"no|{sequence:D10}");

    [LoggerMessage(Level = LogLevel.Information, Message = "Invoice {InvoiceId} numbered {Number} (attempt {Attempt})")]
    private static partial void LogNumbered(ILogger logger, string invoiceId, string number, int attempt);
}

public sealed class NumberCounterRow : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public long LastSequence { get; set; }
}

public sealed class NumberReservationRow : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string Number { get; set; } = "";
    public long Sequence { get; set; }
}

public sealed class NumberUseRow : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string InvoiceId { get; set; } = "";
    public string OrgId { get; set; } = "";
}

using System.Globalization;
using Azure.Data.Tables;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Invoices;

/// <summary>
/// Gap-free invoice numbers per series and financial year. A series' year is one partition of
/// <c>InvoiceNumbers</c> holding a counter row and, per number taken, a row naming its invoice
/// and a row naming its number. Taking a number is one entity-group transaction: insert the
/// invoice's reservation, insert the number's row, advance the counter with its ETag. So a number
/// is never taken without being bound to an invoice id, two invoices never share one, and a retry
/// for the same invoice finds its reservation instead of taking another. The invoice exists (as a
/// draft) before its number is taken, and the timer finishes every draft, so every number taken is
/// eventually printed on its invoice: no holes. Credit notes number their own series the same way,
/// with the note's id in place of the invoice's.
/// </summary>
public sealed partial class InvoiceNumbering(StorageAccount storage, ILogger<InvoiceNumbering> logger)
{
    public const string TableName = "InvoiceNumbers";
    private const string CounterKey = "counter";

    private TableClient Table => storage.Table(TableName);

    /// <summary>A series may hold '/' (<c>RF/CN</c>), which a partition key may not: it is stored as '~'.</summary>
    public static string Partition(string series, string financialYear) => $"{series.Replace('/', '~')}|{financialYear}";

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

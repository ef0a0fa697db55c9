using Azure;
using Azure.Data.Tables;

namespace RaptorFlow.Functions.Invoices;

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

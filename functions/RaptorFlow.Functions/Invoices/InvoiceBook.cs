using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using RaptorFlow.Functions.Events;
using RaptorFlow.Functions.Platform.Ids;
using RaptorFlow.Functions.Platform.Paging;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Invoices;

/// <summary>Reads and conditionally writes the invoice rows of an org's partition.</summary>
public sealed class InvoiceBook(StorageAccount storage, EventOutbox outbox, BillingIndex index)
{
    internal static readonly JsonSerializerOptions LineJson = new(JsonSerializerDefaults.Web)
    {
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
        TypeInfoResolver = ApiJsonContext.WithReflectionFallback,
    };

    public TableClient Table => storage.Table(InvoiceKeys.TableName);

    /// <summary>The invoice, draft or not; null for a malformed id or one this org does not have.</summary>
    public async Task<InvoiceRow?> FindAsync(string orgId, string invoiceId, CancellationToken cancellationToken)
    {
        if (!IdGenerator.IsWellFormed(orgId, "org") || !IdGenerator.IsWellFormed(invoiceId, "bill"))
        {
            return null;
        }

        var row = await Table.GetEntityIfExistsAsync<InvoiceRow>(orgId, InvoiceKeys.Invoice(invoiceId), cancellationToken: cancellationToken);
        return row.HasValue && row.Value!.InvoiceId == invoiceId ? row.Value : null;
    }

    public async Task<PeriodRow?> FindPeriodAsync(string orgId, DateTimeOffset periodStart, CancellationToken cancellationToken)
    {
        var row = await Table.GetEntityIfExistsAsync<PeriodRow>(orgId, InvoiceKeys.Period(periodStart), cancellationToken: cancellationToken);
        return row.HasValue ? row.Value : null;
    }

    /// <summary>Invoices of the org with work left (drafts, postings, links, reversals).</summary>
    public async Task<IReadOnlyList<InvoiceRow>> PendingAsync(string orgId, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {orgId} and RowKey ge {InvoiceKeys.InvoicePrefix} and RowKey lt {InvoiceKeys.PrefixEnd(InvoiceKeys.InvoicePrefix)} and Pending eq {true}");
        var rows = new List<InvoiceRow>();
        await foreach (var row in Table.QueryAsync<InvoiceRow>(filter, cancellationToken: cancellationToken))
        {
            rows.Add(row);
        }

        return rows;
    }

    /// <summary>A page of the org's issued, paid and void invoices, newest first.</summary>
    public Task<(IReadOnlyList<InvoiceRow> Items, string? NextCursor)> ListAsync(string orgId, PageRequest page, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {orgId} and RowKey ge {InvoiceKeys.InvoicePrefix} and RowKey lt {InvoiceKeys.PrefixEnd(InvoiceKeys.InvoicePrefix)} and Status ne {InvoiceKeys.Draft}");
        return Table.ReadPageAsync<InvoiceRow>(filter, page, cancellationToken);
    }

    /// <summary>Replaces the row if it is unchanged since read; false when another writer got there first (re-read and decide again).</summary>
    public async Task<bool> TryReplaceAsync(InvoiceRow row, CancellationToken cancellationToken)
    {
        await MarkIfPendingAsync(row, cancellationToken);
        try
        {
            var response = await Table.UpdateEntityAsync(row, row.ETag, TableUpdateMode.Replace, cancellationToken);
            row.ETag = response.Headers.ETag ?? default;
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status == 412)
        {
            return false;
        }
    }

    /// <summary>
    /// Replaces the row if it is unchanged since read and emits <paramref name="eventType"/> (data: the
    /// invoice as the API returns it) in the same transaction; false on a lost race, which emits nothing.
    /// </summary>
    public async Task<bool> TryReplaceAsync(InvoiceRow row, string eventType, CancellationToken cancellationToken)
    {
        await MarkIfPendingAsync(row, cancellationToken);
        var staged = await StageEventAsync(row, eventType, cancellationToken);
        try
        {
            var response = await Table.SubmitTransactionAsync(
            [
                new TableTransactionAction(TableTransactionActionType.UpdateReplace, row, row.ETag),
                staged.Action,
            ], cancellationToken);
            row.ETag = response.Value[0].Headers.ETag ?? default;
        }
        catch (TableTransactionFailedException ex) when (ex.Status == 412)
        {
            return false;
        }

        await PublishAsync(staged, cancellationToken);
        return true;
    }

    /// <summary>
    /// A void re-opens an issued invoice (pending again): the org is listed in the billing index, so
    /// GenerateInvoices enqueues it to finish the void if this request does not. An invoice still
    /// being closed is covered by its period's index row, and CloseOrgPeriod marks one it leaves pending.
    /// </summary>
    private Task MarkIfPendingAsync(InvoiceRow row, CancellationToken cancellationToken) =>
        row is { Pending: true, VoidedAt: not null } ? index.MarkPendingAsync(row.OrgId, cancellationToken) : Task.CompletedTask;

    /// <summary>Stages <paramref name="eventType"/> for the invoice as it will read once the change that carries the event commits.</summary>
    public Task<StagedEvent> StageEventAsync(InvoiceRow row, string eventType, CancellationToken cancellationToken) =>
        outbox.StageAsync(row.OrgId, eventType, InvoicesApi.ToResponse(row), InvoiceKeys.TableName, row.OrgId, cancellationToken);

    public Task PublishAsync(StagedEvent staged, CancellationToken cancellationToken) => outbox.PublishAsync(staged, cancellationToken);

    public static IReadOnlyList<InvoiceLine> LinesOf(InvoiceRow row) =>
        row.Lines is null ? [] : JsonSerializer.Deserialize<List<InvoiceLine>>(row.Lines, LineJson) ?? [];

    public static string SerializeLines(IReadOnlyList<InvoiceLine> lines) => JsonSerializer.Serialize(lines, LineJson);
}

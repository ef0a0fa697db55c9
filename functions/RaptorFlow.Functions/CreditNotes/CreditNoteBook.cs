using Azure;
using Azure.Data.Tables;
using RaptorFlow.Functions.Events;
using RaptorFlow.Functions.Platform.Ids;
using RaptorFlow.Functions.Platform.Paging;

namespace RaptorFlow.Functions.CreditNotes;

/// <summary>Reads and conditionally writes the credit-note rows of an org's partition.</summary>
public sealed class CreditNoteBook(Platform.Storage.StorageAccount storage, EventOutbox outbox)
{
    public TableClient Table => storage.Table(CreditNoteKeys.TableName);

    /// <summary>The note, numbered or not; null for a malformed id or one this org does not have.</summary>
    public async Task<CreditNoteRow?> FindAsync(string orgId, string noteId, CancellationToken cancellationToken)
    {
        if (!IdGenerator.IsWellFormed(orgId, "org") || !IdGenerator.IsWellFormed(noteId, "cn"))
        {
            return null;
        }

        return await FindRowAsync<CreditNoteRow>(orgId, CreditNoteKeys.Note(noteId), cancellationToken);
    }

    public async Task<T?> FindRowAsync<T>(string orgId, string rowKey, CancellationToken cancellationToken)
        where T : class, ITableEntity
    {
        var row = await Table.GetEntityIfExistsAsync<T>(orgId, rowKey, cancellationToken: cancellationToken);
        return row.HasValue ? row.Value : null;
    }

    /// <summary>A page of the org's numbered notes, oldest first.</summary>
    public Task<(IReadOnlyList<CreditNoteRow> Items, string? NextCursor)> ListAsync(string orgId, PageRequest page, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {orgId} and RowKey ge {CreditNoteKeys.NotePrefix} and RowKey lt {"note}"} and Number ne {""}");
        return Table.ReadPageAsync<CreditNoteRow>(filter, page, cancellationToken);
    }

    /// <summary>Replaces the note if unchanged since read, with <paramref name="eventType"/> emitted in the same transaction when given; false on a lost race.</summary>
    public async Task<bool> TryReplaceAsync(CreditNoteRow row, string? eventType, CancellationToken cancellationToken)
    {
        var staged = eventType is null ? null : await outbox.StageAsync(row.OrgId, eventType, CreditNotesApi.ToResponse(row), CreditNoteKeys.TableName, row.OrgId, cancellationToken);
        List<TableTransactionAction> actions = [new(TableTransactionActionType.UpdateReplace, row, row.ETag)];
        if (staged is not null)
        {
            actions.Add(staged.Action);
        }

        try
        {
            var response = await Table.SubmitTransactionAsync(actions, cancellationToken);
            row.ETag = response.Value[0].Headers.ETag ?? default;
        }
        catch (TableTransactionFailedException ex) when (ex.Status == 412)
        {
            return false;
        }

        if (staged is not null)
        {
            await outbox.PublishAsync(staged, cancellationToken);
        }

        return true;
    }
}

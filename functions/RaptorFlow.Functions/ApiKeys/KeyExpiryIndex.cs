using System.Globalization;
using Azure;
using Azure.Data.Tables;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.ApiKeys;

/// <summary>
/// <c>ApiKeyExpiries</c>: keys that expire, one partition per UTC day of expiry (<c>yyyyMMdd</c>),
/// row = <c>{orgId}|{keyId}</c>. Written before the key row, so an entry may name a key that does not
/// exist (a crashed create); readers verify it against the key row. The expiry notice marks its entry.
/// </summary>
public sealed class KeyExpiryRow : ITableEntity
{
    public const string TableName = "ApiKeyExpiries";

    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string OrgId { get; set; } = "";
    public string KeyId { get; set; } = "";
    public DateTimeOffset ExpiresAt { get; set; }

    /// <summary>When the expiry notice went on the mail queue; null until then.</summary>
    public DateTimeOffset? NotifiedAt { get; set; }
}

/// <summary>The index of keys by the day they expire: a day's keys are one partition read.</summary>
public sealed class KeyExpiryIndex(StorageAccount storage)
{
    private TableClient Table => storage.Table(KeyExpiryRow.TableName);

    public static string DayOf(DateTimeOffset at) => at.UtcDateTime.ToString("yyyyMMdd", CultureInfo.InvariantCulture);

    public static string RowKeyFor(string orgId, string keyId) => $"{orgId}|{keyId}";

    public Task AddAsync(string orgId, string keyId, DateTimeOffset expiresAt) =>
        Table.UpsertEntityAsync(
            new KeyExpiryRow { PartitionKey = DayOf(expiresAt), RowKey = RowKeyFor(orgId, keyId), OrgId = orgId, KeyId = keyId, ExpiresAt = expiresAt },
            TableUpdateMode.Replace);

    /// <summary>Entries not notified yet of keys expiring after <paramref name="from"/> and up to <paramref name="to"/>: one partition read per day.</summary>
    public async IAsyncEnumerable<KeyExpiryRow> DueAsync(DateTimeOffset from, DateTimeOffset to, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        for (var day = from.UtcDateTime.Date; day <= to.UtcDateTime; day = day.AddDays(1))
        {
            var filter = TableClient.CreateQueryFilter($"PartitionKey eq {DayOf(day)} and ExpiresAt gt {from} and ExpiresAt le {to}");
            await foreach (var row in Table.QueryAsync<KeyExpiryRow>(filter, cancellationToken: cancellationToken))
            {
                if (row.NotifiedAt is null)
                {
                    yield return row;
                }
            }
        }
    }

    public async Task<KeyExpiryRow?> FindAsync(string orgId, string keyId, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        var found = await Table.GetEntityIfExistsAsync<KeyExpiryRow>(DayOf(expiresAt), RowKeyFor(orgId, keyId), cancellationToken: cancellationToken);
        return found.HasValue ? found.Value : null;
    }

    /// <summary>Marks the entry notified under its ETag: false when another notice marked it first.</summary>
    public async Task<bool> TryMarkNotifiedAsync(KeyExpiryRow entry, DateTimeOffset at, CancellationToken cancellationToken)
    {
        try
        {
            await Table.UpdateEntityAsync(
                new TableEntity(entry.PartitionKey, entry.RowKey) { [nameof(KeyExpiryRow.NotifiedAt)] = at }, entry.ETag, TableUpdateMode.Merge, cancellationToken);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 412)
        {
            return false;
        }
    }
}

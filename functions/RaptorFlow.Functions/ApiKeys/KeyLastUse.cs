using System.Collections.Concurrent;
using Azure;
using Azure.Data.Tables;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.ApiKeys;

/// <summary>
/// When each key was last used, kept in memory by every verification (one store of a number) and
/// written by <see cref="FlushAsync"/> every <see cref="ApiKeySettings.LastUsedFlushSeconds"/>,
/// at most one write per used key per interval, so <c>lastUsedAt</c> is within a minute of truth
/// without a write per request.
/// </summary>
public sealed partial class KeyLastUse(StorageAccount storage, TimeProvider time, ILogger<KeyLastUse> logger)
{
    // An entry nobody touched for this long is dropped; longer than the verification cache's
    // lifetime, so no cached key still points at a dropped entry and its uses are never lost.
    private static readonly TimeSpan IdleAfter = TimeSpan.FromMinutes(2);

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    public int Count => _entries.Count;

    /// <summary>One key's use, shared by every cached copy of the key on this instance.</summary>
    public sealed class Entry(string orgId, string keyId, long createdTicks)
    {
        private long _usedTicks;

        public string OrgId { get; } = orgId;
        public string KeyId { get; } = keyId;
        internal long CreatedTicks { get; } = createdTicks;
        internal long FlushedTicks { get; set; }
        internal long UsedTicks => Volatile.Read(ref _usedTicks);

        public void Touch(DateTimeOffset now) => Volatile.Write(ref _usedTicks, now.UtcTicks);
    }

    public Entry EntryFor(string orgId, string keyId) =>
        _entries.GetOrAdd(keyId, static (id, state) => new Entry(state.orgId, id, state.now), (orgId, now: time.GetUtcNow().UtcTicks));

    /// <summary>Writes every use newer than its last write; drops entries idle for a while.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        var table = storage.Table(ApiKeyLastUseRow.TableName);
        var idleBefore = time.GetUtcNow().UtcTicks - IdleAfter.Ticks;
        foreach (var (keyId, entry) in _entries)
        {
            var used = entry.UsedTicks;
            if (used > entry.FlushedTicks)
            {
                try
                {
                    await table.UpsertEntityAsync(new ApiKeyLastUseRow
                    {
                        PartitionKey = entry.OrgId,
                        RowKey = keyId,
                        LastUsedAt = new DateTimeOffset(used, TimeSpan.Zero),
                    }, TableUpdateMode.Replace, cancellationToken);
                    entry.FlushedTicks = used;
                }
                catch (RequestFailedException ex)
                {
                    LogFlushFailed(logger, keyId, ex.Status);
                }
            }
            else if (Math.Max(used, entry.CreatedTicks) < idleBefore)
            {
                _entries.TryRemove(new KeyValuePair<string, Entry>(keyId, entry));
            }
        }
    }

    /// <summary>Last-used times of keys in one org, by key id, for keys between <paramref name="firstKeyId"/> and <paramref name="lastKeyId"/>.</summary>
    public async Task<IReadOnlyDictionary<string, DateTimeOffset>> ReadAsync(string orgId, string firstKeyId, string lastKeyId, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {orgId} and RowKey ge {firstKeyId} and RowKey le {lastKeyId}");
        var found = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        await foreach (var row in storage.Table(ApiKeyLastUseRow.TableName).QueryAsync<ApiKeyLastUseRow>(filter, cancellationToken: cancellationToken))
        {
            found[row.RowKey] = row.LastUsedAt;
        }

        // Uses on this instance not yet written are newer than what storage says.
        foreach (var (keyId, entry) in _entries)
        {
            if (entry.OrgId == orgId && entry.UsedTicks > 0 && (!found.TryGetValue(keyId, out var stored) || stored.UtcTicks < entry.UsedTicks))
            {
                found[keyId] = new DateTimeOffset(entry.UsedTicks, TimeSpan.Zero);
            }
        }

        return found;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not record last use of API key {KeyId} (status {Status}); retried at the next flush")]
    private static partial void LogFlushFailed(ILogger logger, string keyId, int status);
}

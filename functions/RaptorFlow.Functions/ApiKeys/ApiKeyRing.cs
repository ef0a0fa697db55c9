using Azure;
using Azure.Data.Tables;
using RaptorFlow.Functions.Events;
using RaptorFlow.Functions.Organizations;
using RaptorFlow.Functions.Platform.Ids;
using RaptorFlow.Functions.Platform.Paging;
using RaptorFlow.Functions.Platform.Storage;
using RaptorFlow.Functions.Stats;

namespace RaptorFlow.Functions.ApiKeys;

/// <summary>
/// The keys of every org: their rows (<c>ApiKeys</c>, one partition per org) and the index from a
/// secret's hash to its key (<c>ApiKeyHashes</c>, one partition per hash). The two are written
/// apart, never atomically, so every change writes the index entry of a new secret before the key
/// row names it and removes a retired one only after: a crash between leaves an entry that no key
/// row agrees with, which verification treats as unknown. Each partition is written by one batch
/// per change, so what must be written with the change can join it: its event, as an outbox row
/// in the org's key partition.
/// </summary>
public sealed class ApiKeyRing(StorageAccount storage, ApiKeyVerifier verifier, EventOutbox outbox, OrgCounters counters, KeyExpiryIndex expiries, IdGenerator ids, TimeProvider time)
{
    private TableClient Keys => storage.Table(ApiKeyRow.TableName);

    private TableClient Hashes => storage.Table(ApiKeyHashRow.TableName);

    /// <summary>Issues a key with a fresh secret; the secret is in the result, and only its hash is stored.</summary>
    public async Task<KeyChange> CreateAsync(string orgId, ApiKeyDraft draft)
    {
        var keyId = ids.New("key");
        var secret = ApiKeyToken.Issue(keyId, draft.Mode);
        var hash = ApiKeyToken.HashHex(ApiKeyToken.Hash(secret));
        var row = new ApiKeyRow
        {
            PartitionKey = orgId,
            RowKey = keyId,
            Name = draft.Name,
            Mode = draft.Mode == ApiKeyMode.Test ? "test" : "live",
            DisplayPrefix = secret[..ApiKeyToken.DisplayPrefixLength],
            Capabilities = string.Join(' ', draft.Capabilities),
            AllowedCidrs = string.Join(' ', draft.AllowedCidrs),
            RateLimitPerMinute = draft.RateLimitPerMinute,
            Status = "active",
            CreatedBy = draft.CreatedBy,
            CreatedAt = time.GetUtcNow(),
            ExpiresAt = draft.ExpiresAt?.ToUniversalTime(),
            SecretHash = hash,
        };

        // The index entries first: alone they name a key row that does not exist, which verification (and the expiry notice) treats as unknown.
        await AddIndexAsync(hash, orgId, keyId);
        if (row.ExpiresAt is { } expiresAt)
        {
            await expiries.AddAsync(orgId, keyId, expiresAt);
        }

        // Retried only when the org's counter row changed meanwhile (another key's change): the new key row itself cannot conflict.
        row.ETag = await OptimisticConcurrency.RunAsync<ETag>(
            ConcurrencyPolicy.Counted,
            async _ => await WriteKeyAsync(new(TableTransactionActionType.Add, row), EventTypes.ApiKeyCreated, new CounterChange().Opened(row.ExpiresAt)),
            CancellationToken.None);
        return new KeyChange(KeyChangeOutcome.Done, row, secret);
    }

    /// <summary>A page of the org's keys, oldest first.</summary>
    /// <remarks>Bounded to key ids: the partition also holds outbox rows of events not yet dispatched.</remarks>
    public Task<(IReadOnlyList<ApiKeyRow> Items, string? NextCursor)> ListAsync(string orgId, PageRequest page, CancellationToken cancellationToken) =>
        Keys.ReadPageAsync<ApiKeyRow>(
            TableClient.CreateQueryFilter($"PartitionKey eq {orgId} and RowKey ge {KeyIdPrefix} and RowKey lt {KeyIdPrefixEnd}"), page, cancellationToken);

    // Key ids are "key_" + a sortable id; '`' is the character after '_'.
    private const string KeyIdPrefix = "key_";
    private const string KeyIdPrefixEnd = "key`";

    /// <summary>The key, or null when the org has none with this id.</summary>
    public async Task<ApiKeyRow?> FindAsync(string orgId, string keyId, CancellationToken cancellationToken)
    {
        if (!IdGenerator.IsWellFormed(keyId, "key"))
        {
            return null;
        }

        var found = await Keys.GetEntityIfExistsAsync<ApiKeyRow>(orgId, keyId, cancellationToken: cancellationToken);
        return found.HasValue ? found.Value : null;
    }

    /// <summary>
    /// Gives an active key a new secret; the old one keeps working for <paramref name="overlap"/>
    /// (none: it stops at once). <paramref name="ifMatch"/> null: a lost race is read again and retried.
    /// </summary>
    public Task<KeyChange> RollAsync(string orgId, string keyId, ETag? ifMatch, TimeSpan overlap) =>
        OptimisticConcurrency.RunAsync<KeyChange>(
            ConcurrencyPolicy.Counted,
            async _ =>
            {
                var row = await FindAsync(orgId, keyId, CancellationToken.None);
                var now = time.GetUtcNow();
                if (Refusal(row, ifMatch) is { } refused)
                {
                    return refused;
                }

                if (row!.StateAt(now) != ApiKeyState.Active)
                {
                    return new KeyChange(KeyChangeOutcome.NotActive);
                }

                var secret = ApiKeyToken.Issue(keyId, row.ParsedMode);
                var hash = ApiKeyToken.HashHex(ApiKeyToken.Hash(secret));
                var retired = Roll(row, secret, hash, now, overlap);

                // The new secret's index entry first: until the key row names its hash it authenticates nothing.
                await AddIndexAsync(hash, orgId, keyId);
                try
                {
                    row.ETag = await WriteKeyAsync(new(TableTransactionActionType.UpdateReplace, row, row.ETag), EventTypes.ApiKeyRolled);
                }
                catch (RequestFailedException ex) when (ex.Status == 412)
                {
                    await RemoveIndexAsync(hash);
                    if (ifMatch is null)
                    {
                        throw;
                    }

                    return KeyChange.Stale;
                }

                verifier.Forget(keyId);
                if (retired is not null)
                {
                    // The key row no longer names it, so the entry is already inert; this only tidies.
                    await RemoveIndexAsync(retired);
                }

                return new KeyChange(KeyChangeOutcome.Done, row, secret);
            },
            CancellationToken.None);

    /// <summary>Revokes a key at once, on this instance's verifier too; a revoked key is left as it is.</summary>
    public Task<KeyChange> RevokeAsync(string orgId, string keyId, ETag? ifMatch) =>
        OptimisticConcurrency.RunAsync<KeyChange>(
            ConcurrencyPolicy.Counted,
            async _ =>
            {
                var row = await FindAsync(orgId, keyId, CancellationToken.None);
                if (Refusal(row, ifMatch) is { } refused)
                {
                    return refused;
                }

                if (row!.ParsedStatus == ApiKeyStatus.Revoked)
                {
                    return new KeyChange(KeyChangeOutcome.Unchanged, row);
                }

                row.Status = "revoked";
                row.RevokedAt = time.GetUtcNow();
                try
                {
                    row.ETag = await WriteKeyAsync(new(TableTransactionActionType.UpdateReplace, row, row.ETag), EventTypes.ApiKeyRevoked, new CounterChange().Closed(row.ExpiresAt));
                }
                catch (TableTransactionFailedException ex) when (ex.Status is 409 or 412 && ex.FailedTransactionActionIndex != 0)
                {
                    // The org's counter row changed meanwhile, not the key: read again and retry.
                    return Attempt.LostRace<KeyChange>();
                }
                catch (RequestFailedException ex) when (ex.Status == 412)
                {
                    // Without If-Match a lost race is retried; with it, the caller's version is gone.
                    return ifMatch is null ? Attempt.LostRace<KeyChange>() : KeyChange.Stale;
                }

                verifier.Forget(keyId);
                return new KeyChange(KeyChangeOutcome.Done, row);
            },
            CancellationToken.None,
            exhausted: () => KeyChange.Stale);

    private static KeyChange? Refusal(ApiKeyRow? row, ETag? ifMatch) =>
        row is null ? KeyChange.NotFound : !ifMatch.Matches(row.ETag) ? KeyChange.Stale : null;

    /// <summary>Makes <paramref name="secret"/> the key's; returns the hash whose index entry is now retired, if any.</summary>
    private static string? Roll(ApiKeyRow row, string secret, string hash, DateTimeOffset now, TimeSpan overlap)
    {
        var keepsOld = overlap > TimeSpan.Zero;
        var retired = keepsOld ? row.PreviousSecretHash : row.SecretHash;
        row.PreviousSecretHash = keepsOld ? row.SecretHash : null;
        row.PreviousSecretExpiresAt = keepsOld ? now + overlap : null;
        row.SecretHash = hash;
        row.DisplayPrefix = secret[..ApiKeyToken.DisplayPrefixLength];
        row.RolledAt = now;
        return retired;
    }

    /// <summary>
    /// The one write to a key's partition per change, with the change's event (the key as the API
    /// returns it) and what it does to the org's counters (<paramref name="counted"/>) in the same
    /// transaction; returns the key row's new ETag.
    /// </summary>
    private async Task<ETag> WriteKeyAsync(TableTransactionAction keyRow, string eventType, CounterChange? counted = null)
    {
        var key = (ApiKeyRow)keyRow.Entity;
        var staged = await outbox.StageAsync(
            key.OrgId, eventType, ApiKeysApi.ToResponse(key, null, time.GetUtcNow()), ApiKeyRow.TableName, key.PartitionKey, CancellationToken.None);
        List<TableTransactionAction> batch = [keyRow, staged.Action];
        if (counted is not null)
        {
            batch.Add(await counters.StageAsync(ApiKeyRow.TableName, key.OrgId, counted));
        }

        var written = await Keys.SubmitTransactionAsync(batch, CancellationToken.None);
        await outbox.PublishAsync(staged, CancellationToken.None);
        return written.Value[0].Headers.ETag ?? default;
    }

    private Task AddIndexAsync(string hash, string orgId, string keyId) =>
        IndexAsync(new(TableTransactionActionType.Add, new ApiKeyHashRow { PartitionKey = hash, RowKey = "", OrgId = orgId, KeyId = keyId }));

    /// <summary>The one write to a hash's index partition per change.</summary>
    private async Task IndexAsync(TableTransactionAction entry)
    {
        List<TableTransactionAction> batch = [entry];
        await Hashes.SubmitTransactionAsync(batch, CancellationToken.None);
    }

    private async Task RemoveIndexAsync(string hash)
    {
        try
        {
            await IndexAsync(new(TableTransactionActionType.Delete, new TableEntity(hash, ""), ETag.All));
        }
        catch (RequestFailedException)
        {
            // Inert without the key row naming it; a failed tidy-up is harmless.
        }
    }
}

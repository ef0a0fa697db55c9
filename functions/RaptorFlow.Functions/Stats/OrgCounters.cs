using Azure;
using Azure.Data.Tables;
using RaptorFlow.Functions.ApiKeys;
using RaptorFlow.Functions.Organizations;
using RaptorFlow.Functions.Platform.Access;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Stats;

/// <summary>
/// An org's members by role, pending invitations and active keys, kept on write so the stats read
/// three rows instead of the org's members, invitations and keys. Every change that moves a count
/// stages its <see cref="CounterChange"/> here into the transaction it already commits in the org's
/// partition (<c>Orgs</c> for members and invitations, <c>ApiKeys</c> for keys); a counter row
/// written meanwhile fails that transaction, which the store reads again and retries. An org from
/// before the counters has no row: its first change marks one for rebuilding, and the first read
/// rebuilds it from the rows, committed with the row's ETag, so no change slips in unseen.
/// </summary>
public sealed partial class OrgCounters(StorageAccount storage, TimeProvider time, ILogger<OrgCounters> logger)
{
    /// <summary>The action that applies <paramref name="change"/> to the org's counter row in <paramref name="table"/>, for the change's own transaction.</summary>
    public async Task<TableTransactionAction> StageAsync(string table, string orgId, CounterChange change)
    {
        var found = await storage.Table(table).GetEntityIfExistsAsync<OrgCountersRow>(orgId, OrgCountersRow.Key);
        if (!found.HasValue)
        {
            // Added, not upserted: a rebuild or another change that writes the row first fails this transaction.
            return new(TableTransactionActionType.Add, new OrgCountersRow { PartitionKey = orgId, Rebuild = true, FoldedThrough = time.GetUtcNow() });
        }

        var row = found.Value!;
        if (!row.Rebuild)
        {
            change.ApplyTo(row, time.GetUtcNow());
        }

        // Replaced even when awaiting its rebuild: the new ETag tells a rebuild in flight that its count is stale.
        return new(TableTransactionActionType.UpdateReplace, row, row.ETag);
    }

    /// <summary>A new org's counters: the founding owner in <c>Orgs</c> (the returned action, for the org's creating transaction), and no keys.</summary>
    public async Task<TableTransactionAction> FoundAsync(string orgId)
    {
        var now = time.GetUtcNow();
        try
        {
            // Before the org exists, so before any key can.
            await storage.Table(ApiKeyRow.TableName).AddEntityAsync(new OrgCountersRow { PartitionKey = orgId, FoldedThrough = now });
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            // A retried creation wrote it already.
        }

        return new(TableTransactionActionType.Add, new OrgCountersRow { PartitionKey = orgId, Owners = 1, FoldedThrough = now });
    }

    /// <summary>The counts now; a missing or stale counter row is rebuilt first from <paramref name="recount"/>'s rows.</summary>
    public async Task<OrgCounts> ReadAsync(string orgId, IOrgRecount recount, CancellationToken cancellationToken)
    {
        var orgTask = CurrentAsync(OrgTable.Name, orgId, async ct => (await recount.MemberRolesAsync(orgId, ct), await recount.OpenInvitationExpiriesAsync(orgId, ct)), cancellationToken);
        var keysTask = CurrentAsync(ApiKeyRow.TableName, orgId, async ct => ([], await recount.LiveKeyExpiriesAsync(orgId, ct)), cancellationToken);
        var (org, keys) = (await orgTask, await keysTask);
        var now = time.GetUtcNow();
        return new OrgCounts(org.Owners, org.Admins, org.Members, org.Viewers, Unexpired(org, now), Unexpired(keys, now));
    }

    private static int Unexpired(OrgCountersRow row, DateTimeOffset now) =>
        row.Open - (now > row.FoldedThrough ? ExpiryTally.Parse(row.Expiries).CountThrough(now) : 0);

    private Task<OrgCountersRow> CurrentAsync(string table, string orgId, Func<CancellationToken, Task<(IReadOnlyList<Role> Roles, IReadOnlyList<DateTimeOffset?> Open)>> recount, CancellationToken cancellationToken) =>
        OptimisticConcurrency.RunAsync<OrgCountersRow>(
            ConcurrencyPolicy.Edit,
            async _ =>
            {
                var rows = storage.Table(table);
                var found = await rows.GetEntityIfExistsAsync<OrgCountersRow>(orgId, OrgCountersRow.Key, cancellationToken: cancellationToken);
                if (found.HasValue && !found.Value!.Rebuild)
                {
                    return found.Value;
                }

                // Counted after the row was read: a change committed since moved its ETag (or added it), and the write below fails.
                var (roles, open) = await recount(cancellationToken);
                var rebuilt = Recounted(orgId, roles, open, time.GetUtcNow());
                if (found.HasValue)
                {
                    await rows.UpdateEntityAsync(rebuilt, found.Value!.ETag, TableUpdateMode.Replace, cancellationToken);
                }
                else
                {
                    await rows.AddEntityAsync(rebuilt, cancellationToken);
                }

                LogRebuilt(logger, orgId, table);
                return rebuilt;
            },
            cancellationToken);

    /// <summary>Counts from the rows: the members' roles and the expiry (null: none) of each open invitation or unrevoked key.</summary>
    private static OrgCountersRow Recounted(string orgId, IReadOnlyList<Role> roles, IReadOnlyList<DateTimeOffset?> open, DateTimeOffset now)
    {
        var row = new OrgCountersRow { PartitionKey = orgId, FoldedThrough = now };
        var change = new CounterChange();
        foreach (var role in roles)
        {
            change.Joined(role);
        }

        foreach (var expiresAt in open)
        {
            change.Opened(expiresAt);
        }

        change.ApplyTo(row, now);
        return row;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Rebuilt the counters of org {OrgId} in {Table} from its rows")]
    private static partial void LogRebuilt(ILogger logger, string orgId, string table);
}

/// <summary>Members by role, pending (unexpired) invitations and active (unrevoked, unexpired) keys.</summary>
public sealed record OrgCounts(int Owners, int Admins, int Members, int Viewers, int PendingInvitations, int ActiveApiKeys);

/// <summary>The rows the counters are rebuilt from, read through their features' stores.</summary>
public interface IOrgRecount
{
    Task<IReadOnlyList<Role>> MemberRolesAsync(string orgId, CancellationToken cancellationToken);

    /// <summary>The expiry of every invitation neither accepted, revoked nor replaced (expired ones may be left out).</summary>
    Task<IReadOnlyList<DateTimeOffset?>> OpenInvitationExpiriesAsync(string orgId, CancellationToken cancellationToken);

    /// <summary>The expiry (null: none) of every unrevoked key (expired ones may be left out).</summary>
    Task<IReadOnlyList<DateTimeOffset?>> LiveKeyExpiriesAsync(string orgId, CancellationToken cancellationToken);
}

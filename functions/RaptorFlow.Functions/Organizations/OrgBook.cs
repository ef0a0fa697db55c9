using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Options;
using RaptorFlow.Functions.Audit;
using RaptorFlow.Functions.Events;
using RaptorFlow.Functions.Invoices;
using RaptorFlow.Functions.Platform.Access;
using RaptorFlow.Functions.Platform.Ids;
using RaptorFlow.Functions.Platform.Paging;
using RaptorFlow.Functions.Platform.Storage;
using RaptorFlow.Functions.Privacy;
using RaptorFlow.Functions.Stats;

namespace RaptorFlow.Functions.Organizations;

/// <summary>Orgs as their owners change them: created with a unique slug, renamed, re-slugged, deleted and restored within the grace.</summary>
public sealed class OrgBook(
    OrgPartition partition, OrgDirectory directory, UserOrgIndex index, BillingIndex billing, OrgCounters counters, OrgPurgeSchedule purges,
    StorageAccount storage, IdGenerator ids, TimeProvider time, IOptions<RetentionSettings> retention)
{
    // A slug row whose org never appeared is the leftover of a create that crashed midway; after this long it may be reclaimed.
    private static readonly TimeSpan OrphanSlugAge = TimeSpan.FromMinutes(5);

    private TableClient SlugTable => storage.Table(OrgSlugRow.TableName);

    /// <summary>
    /// The org row the access check read moments ago in this same request, else a fresh read. It is
    /// as current as a second read would be (both precede any write of this request), and its ETag
    /// still guards PATCH and DELETE against a concurrent change.
    /// </summary>
    public async ValueTask<OrgRow?> FindAsync(string orgId, OrgRow? readByAccessCheck, CancellationToken cancellationToken) =>
        readByAccessCheck is { } org && org.OrgId == orgId ? org : await directory.FindAsync(orgId, cancellationToken);

    /// <summary>A new org with <paramref name="founder"/> its owner; without a slug, one is made from the name.</summary>
    public async Task<OrgResult> CreateAsync(Caller founder, string name, string? slug)
    {
        var now = time.GetUtcNow();
        var orgId = ids.New("org");

        // Order: the user's and the billing index entries (harmless alone), then the slug claim, then the org and its
        // owner in one transaction. A crash leaves at most an index entry readers ignore and a slug
        // row that a later create may reclaim.
        await index.AddAsync(founder.Id, orgId, now);
        await billing.AddAsync(orgId, BillingIndex.PeriodOf(now), CancellationToken.None);
        var (claimed, claimedSlug) = await ClaimNewSlugAsync(orgId, name, slug, now);
        if (claimed != OrgOutcome.Created)
        {
            await billing.SettleAsync(orgId, BillingIndex.PeriodOf(now), CancellationToken.None);
            return new OrgResult(claimed);
        }

        var org = new OrgRow
        {
            PartitionKey = orgId,
            Name = name,
            Slug = claimedSlug,
            CreatedBy = founder.Reference,
            CreatedAt = now,
            UpdatedAt = now,
            OwnerCount = 1,
        };
        var results = await partition.CommitAsync(
            [new(TableTransactionActionType.Add, org), new(TableTransactionActionType.Add, MemberRow.Joining(orgId, founder, Role.Owner, now)), await counters.FoundAsync(orgId)]);
        org.ETag = results[0].Headers.ETag ?? default;
        return new OrgResult(OrgOutcome.Created, org, new Dictionary<string, AuditChange>
        {
            ["name"] = new(null, org.Name),
            ["slug"] = new(null, org.Slug),
        });
    }

    /// <summary>Renames the org, changes its slug, billing email or notification setting; a new slug is claimed first and the old one released after.</summary>
    public async Task<OrgResult> UpdateAsync(OrgRow? org, ETag? ifMatch, OrgEdit edit)
    {
        var (name, slug) = (edit.Name, edit.Slug);
        if (Refusal(org, ifMatch) is { } refused)
        {
            return new OrgResult(refused);
        }

        var now = time.GetUtcNow();
        var oldSlug = org!.Slug;
        var newSlug = slug is not null && slug != org.Slug ? slug : null;
        if (newSlug is not null && !await TryClaimSlugAsync(newSlug, org.OrgId, now))
        {
            return new OrgResult(OrgOutcome.SlugTaken);
        }

        var changes = Apply(org, name, newSlug);
        ApplySettings(org, edit, changes);
        if (changes.Count == 0)
        {
            return new OrgResult(OrgOutcome.Unchanged, org);
        }

        org.UpdatedAt = now;
        if (!await TryReplaceAsync(org, EventTypes.OrgUpdated))
        {
            if (newSlug is not null)
            {
                await ReleaseSlugAsync(newSlug, org.OrgId);
            }

            return new OrgResult(OrgOutcome.Stale);
        }

        if (newSlug is not null)
        {
            await ReleaseSlugAsync(oldSlug, org.OrgId);
        }

        return new OrgResult(OrgOutcome.Updated, org, changes);
    }

    /// <summary>
    /// Deletes the org: it then reads as gone and its keys stop working, until an owner restores it
    /// or its grace ends and the purge takes it. The purge entry is written first: alone it is
    /// harmless, as the purge finds the org live (or with another date) and drops it.
    /// </summary>
    public async Task<OrgOutcome> DeleteAsync(OrgRow? org, ETag? ifMatch)
    {
        if (Refusal(org, ifMatch) is { } refused)
        {
            return refused;
        }

        var now = time.GetUtcNow();
        // Whole seconds: the date is a key of the purge entry and must survive the round trip through the org row.
        var purgeAfter = new DateTimeOffset((now + retention.Value.OrgGrace).UtcTicks / TimeSpan.TicksPerSecond * TimeSpan.TicksPerSecond, TimeSpan.Zero);
        await purges.ScheduleAsync(org!.OrgId, purgeAfter, OrgPurgeStage.Org, CancellationToken.None);
        org.DeletedAt = now;
        org.PurgeAfter = purgeAfter;
        org.UpdatedAt = now;
        // The slug stays reserved until the purge: links and integrations that name it must not reach a new org.
        if (await TryReplaceAsync(org, EventTypes.OrgDeleted))
        {
            return OrgOutcome.Deleted;
        }

        await purges.RemoveAsync(org.OrgId, purgeAfter, OrgPurgeStage.Org, CancellationToken.None);
        return OrgOutcome.Stale;
    }

    /// <summary>
    /// Undoes a delete while its grace lasts and the purge has not begun: the org row is written under
    /// the ETag it was read with (a purge that started meanwhile changed it), and its purge entry goes after.
    /// </summary>
    public async Task<OrgResult> RestoreAsync(string orgId, OrgRow? readByAccessCheck)
    {
        var org = await FindAsync(orgId, readByAccessCheck, CancellationToken.None);
        for (var attempt = 0; attempt < 3; attempt++)
        {
            if (org is null)
            {
                return new OrgResult(OrgOutcome.NotFound);
            }

            var now = time.GetUtcNow();
            var purgeAfter = org.PurgeAfter ?? org.DeletedAt + retention.Value.OrgGrace;
            if (org.DeletedAt is not { } deletedAt)
            {
                return new OrgResult(OrgOutcome.NotDeleted, org);
            }

            if (org.PurgeStartedAt is not null || now >= purgeAfter)
            {
                return new OrgResult(OrgOutcome.GraceEnded, org);
            }

            org.DeletedAt = null;
            org.PurgeAfter = null;
            org.UpdatedAt = now;
            if (await TryReplaceAsync(org, EventTypes.OrgRestored))
            {
                if (purgeAfter is { } scheduled)
                {
                    await purges.RemoveAsync(orgId, scheduled, OrgPurgeStage.Org, CancellationToken.None);
                }

                return new OrgResult(OrgOutcome.Restored, org, new Dictionary<string, AuditChange>
                {
                    ["deletedAt"] = new(deletedAt.ToString("O"), null),
                });
            }

            // Changed meanwhile (another restore, or the purge starting): decide again on the row as it is now.
            org = await directory.FindAsync(orgId, CancellationToken.None);
        }

        return new OrgResult(OrgOutcome.Stale);
    }

    /// <summary>
    /// A page of the user's index partition, each entry verified against its member row and org
    /// row (an entry whose membership is gone or whose org is deleted is skipped).
    /// </summary>
    public async Task<(IReadOnlyList<(OrgRow Org, Role Role)> Orgs, string? Next)> ListOfUserAsync(
        string userId, PageRequest page, CancellationToken cancellationToken)
    {
        var (entries, next) = await index.ReadPageAsync(userId, page, cancellationToken);
        var verified = await Task.WhenAll(entries.Select(async entry =>
        {
            var orgTask = directory.FindAsync(entry.RowKey, cancellationToken);
            var memberTask = directory.FindMemberAsync(entry.RowKey, userId, cancellationToken);
            var (org, member) = (await orgTask, await memberTask);
            return org is { IsDeleted: false } && member is not null ? (org, member.ParsedRole) : ((OrgRow, Role)?)null;
        }));
        return ([.. verified.OfType<(OrgRow, Role)>()], next);
    }

    private static OrgOutcome? Refusal(OrgRow? org, ETag? ifMatch) =>
        org is null || org.IsDeleted ? OrgOutcome.NotFound : !ifMatch.Matches(org.ETag) ? OrgOutcome.Stale : null;

    private static Dictionary<string, AuditChange> Apply(OrgRow org, string? name, string? newSlug)
    {
        var changes = new Dictionary<string, AuditChange>();
        if (name is not null && name != org.Name)
        {
            changes["name"] = new(org.Name, name);
            org.Name = name;
        }

        if (newSlug is not null)
        {
            changes["slug"] = new(org.Slug, newSlug);
            org.Slug = newSlug;
        }

        return changes;
    }

    private static void ApplySettings(OrgRow org, OrgEdit edit, Dictionary<string, AuditChange> changes)
    {
        var billingEmail = edit.BillingEmail is "" ? null : edit.BillingEmail ?? org.BillingEmail;
        if (billingEmail != org.BillingEmail)
        {
            changes["billingEmail"] = new(org.BillingEmail, billingEmail);
            org.BillingEmail = billingEmail;
        }

        if (edit.EmailNotifications is { } on && on == org.EmailNotificationsOff)
        {
            changes["notifications.email"] = new((!on).ToString().ToLowerInvariant(), on.ToString().ToLowerInvariant());
            org.EmailNotificationsOff = !on;
        }
    }

    /// <summary>
    /// Turns the org's notification email off, whatever its ETag (the one-click unsubscribe): true when
    /// this call turned it off, false when it was off already; null when there is no live org.
    /// </summary>
    public Task<bool?> TurnOffEmailNotificationsAsync(string orgId) =>
        OptimisticConcurrency.RunAsync<bool?>(ConcurrencyPolicy.Counted, async _ =>
        {
            var org = await directory.FindAsync(orgId, CancellationToken.None);
            if (org is null || org.IsDeleted)
            {
                return Attempt.Done<bool?>(null);
            }

            if (org.EmailNotificationsOff)
            {
                return Attempt.Done<bool?>(false);
            }

            org.EmailNotificationsOff = true;
            org.UpdatedAt = time.GetUtcNow();
            return await TryReplaceAsync(org, EventTypes.OrgUpdated) ? Attempt.Done<bool?>(true) : Attempt.LostRace<bool?>();
        }, CancellationToken.None);

    /// <summary>Writes the org row with the ETag it was read with, and its event; false when it changed meanwhile.</summary>
    private async Task<bool> TryReplaceAsync(OrgRow org, string eventType)
    {
        // The event's org carries no role: the role in the API's answer is the reader's, and an event has no reader yet.
        var staged = await partition.StageAsync(org.OrgId, eventType, OrganizationsApi.ToResponse(org, null));
        try
        {
            var results = await partition.CommitAsync([new(TableTransactionActionType.UpdateReplace, org, org.ETag)], [staged]);
            org.ETag = results[0].Headers.ETag ?? default;
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status == 412)
        {
            return false;
        }
    }

    /// <summary>The slug asked for, or one made from the name; a taken generated slug is a lost race for the name, so another with a fresh suffix is tried.</summary>
    private async Task<(OrgOutcome Outcome, string Slug)> ClaimNewSlugAsync(string orgId, string name, string? explicitSlug, DateTimeOffset now)
    {
        var slug = explicitSlug ?? Slugs.FromName(name);
        var outcome = await OptimisticConcurrency.RunAsync<OrgOutcome>(
            ConcurrencyPolicy.Edit,
            async _ =>
            {
                if (await TryClaimSlugAsync(slug, orgId, now))
                {
                    return OrgOutcome.Created;
                }

                if (explicitSlug is not null)
                {
                    return OrgOutcome.SlugTaken;
                }

                slug = Slugs.WithSuffix(Slugs.FromName(name));
                return Attempt.LostRace<OrgOutcome>();
            },
            CancellationToken.None,
            exhausted: () => OrgOutcome.NoFreeSlug);
        return (outcome, slug);
    }

    private async Task<bool> TryClaimSlugAsync(string slug, string orgId, DateTimeOffset now)
    {
        var row = new OrgSlugRow { PartitionKey = slug, RowKey = "", OrgId = orgId, ClaimedAt = now };
        try
        {
            await SlugTable.AddEntityAsync(row);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
        }

        var existing = await SlugTable.GetEntityIfExistsAsync<OrgSlugRow>(slug, "");
        if (!existing.HasValue)
        {
            return false;
        }

        var holder = existing.Value!;
        if (holder.OrgId == orgId)
        {
            return true;
        }

        if (holder.ClaimedAt + OrphanSlugAge > now || await directory.FindAsync(holder.OrgId, CancellationToken.None) is not null)
        {
            return false;
        }

        try
        {
            await SlugTable.UpdateEntityAsync(row, holder.ETag, TableUpdateMode.Replace);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status is 412 or 404)
        {
            return false;
        }
    }

    private async Task ReleaseSlugAsync(string slug, string orgId)
    {
        var existing = await SlugTable.GetEntityIfExistsAsync<OrgSlugRow>(slug, "");
        if (existing.HasValue && existing.Value!.OrgId == orgId)
        {
            try
            {
                await SlugTable.DeleteEntityAsync(slug, "", existing.Value.ETag);
            }
            catch (RequestFailedException ex) when (ex.Status is 404 or 412)
            {
            }
        }
    }
}

using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Options;
using RaptorFlow.Functions.ApiKeys;
using RaptorFlow.Functions.Audit;
using RaptorFlow.Functions.CreditNotes;
using RaptorFlow.Functions.Events;
using RaptorFlow.Functions.Hosting;
using RaptorFlow.Functions.Idempotency;
using RaptorFlow.Functions.Invitations;
using RaptorFlow.Functions.Invoices;
using RaptorFlow.Functions.Mail;
using RaptorFlow.Functions.Organizations;
using RaptorFlow.Functions.Payments;
using RaptorFlow.Functions.Plans;
using RaptorFlow.Functions.Platform.RateLimiting;
using RaptorFlow.Functions.Platform.Secrets;
using RaptorFlow.Functions.Platform.Storage;
using RaptorFlow.Functions.Razorpay;
using RaptorFlow.Functions.Stats;
using RaptorFlow.Functions.Usage;
using RaptorFlow.Functions.Webhooks;

namespace RaptorFlow.Functions.Privacy;

/// <summary>What becomes of an org's data in one table or container when the org is purged.</summary>
public enum OrgDataFate
{
    /// <summary>Removed when the org's grace ends.</summary>
    Purged,

    /// <summary>Financial records: kept for the legal retention period after the purge, then removed.</summary>
    KeptForTax,

    /// <summary>Removed by its own retention, well within the grace, under keys that name no org.</summary>
    ExpiresOnItsOwn,

    /// <summary>Holds no data of any org.</summary>
    NoOrgData,
}

/// <summary>One table or blob container, its fate, and (for the purged and kept) how one org's data in it is removed.</summary>
public sealed record OrgDataHolder(string Name, StorageResourceKind Kind, OrgDataFate Fate, string Why, Func<string, CancellationToken, Task>? Remove = null);

/// <summary>
/// Every table and blob container the app declares, in the order a purge removes them: index rows
/// that can only be found through an org's rows (members' index entries, token and key hashes, slugs)
/// go before the rows that name them, and the org's own partition goes last, so a purge that stops
/// midway is finished by the next delivery. A test fails when a declared table or container is missing here.
/// </summary>
public sealed class OrgDataCatalog(StorageAccount storage, ExportBook exports, BillingIndex billing, IOptions<RateLimitSettings> rateLimits, PendingEventsTable pendingEvents, RazorpayInboxTable razorpayInbox)
{
    private const string LedgerTable = "Ledger";

    public IReadOnlyList<OrgDataHolder> Holders =>
    [
        new(OrgSlugRow.TableName, StorageResourceKind.Table, OrgDataFate.Purged, "slug claim; released so a new org may take it", ReleaseSlugAsync),
        new(UserOrgRow.TableName, StorageResourceKind.Table, OrgDataFate.Purged, "members' index entries, found through the member rows", RemoveMemberIndexAsync),
        new(InvitationTokenRow.TableName, StorageResourceKind.Table, OrgDataFate.Purged, "invitation token hashes, found through the invitation rows", RemoveInvitationTokensAsync),
        new(ApiKeyHashRow.TableName, StorageResourceKind.Table, OrgDataFate.Purged, "key lookup rows, found through the key rows", RemoveKeyHashesAsync),
        new(rateLimits.Value.Table, StorageResourceKind.Table, OrgDataFate.Purged, "the org's and its keys' shared rate-limit buckets", RemoveRateLimitsAsync),
        new(KeyExpiryRow.TableName, StorageResourceKind.Table, OrgDataFate.Purged, "keys by the day they expire, found through the key rows", RemoveKeyExpiriesAsync),
        new(ApiKeyRow.TableName, StorageResourceKind.Table, OrgDataFate.Purged, "API keys and their counters", (org, ct) => RemovePartitionAsync(ApiKeyRow.TableName, org, ct)),
        new(ApiKeyLastUseRow.TableName, StorageResourceKind.Table, OrgDataFate.Purged, "when each key was last used", (org, ct) => RemovePartitionAsync(ApiKeyLastUseRow.TableName, org, ct)),
        new(UsageEventIdRow.TableName, StorageResourceKind.Table, OrgDataFate.Purged, "raw usage events as first received", (org, ct) => RemovePartitionAsync(UsageEventIdRow.TableName, org, ct)),
        new(UsageEventRow.TableName, StorageResourceKind.Table, OrgDataFate.Purged, "raw usage events by hour ({orgId}|{hour} partitions)",
            (org, ct) => RemoveAsync(UsageEventRow.TableName, $"PartitionKey ge {org + "|"} and PartitionKey lt {org + "}"}", ct)),
        new(PendingHourRow.TableName, StorageResourceKind.Table, OrgDataFate.Purged, "hours awaiting rollup",
            (org, ct) => RemoveAsync(PendingHourRow.TableName, $"PartitionKey eq {PendingHourRow.Partition} and RowKey ge {org + "|"} and RowKey lt {org + "}"}", ct)),
        new(UsageTotalRow.TableName, StorageResourceKind.Table, OrgDataFate.Purged, "usage rollups", (org, ct) => RemovePartitionAsync(UsageTotalRow.TableName, org, ct)),
        new(SubscriptionRow.TableName, StorageResourceKind.Table, OrgDataFate.Purged, "plan and subscription history; what was billed is on the invoices",
            (org, ct) => RemovePartitionAsync(SubscriptionRow.TableName, org, ct)),
        new(WebhookMessageRow.TableName, StorageResourceKind.Table, OrgDataFate.Purged, "webhook messages and delivery attempts ({orgId}_{endpointId} partitions)",
            (org, ct) => RemoveAsync(WebhookMessageRow.TableName, $"PartitionKey ge {org + "_"} and PartitionKey lt {org + "`"}", ct)),
        new(WebhookEndpointRow.TableName, StorageResourceKind.Table, OrgDataFate.Purged, "webhook endpoints (and their send-limit buckets in the rate-limit table)", RemoveWebhookEndpointsAsync),
        new(pendingEvents.Name, StorageResourceKind.Table, OrgDataFate.Purged, "pending event entries pointing into the org's partitions",
            (org, ct) => RemoveAsync(pendingEvents.Name, $"PartitionKey eq {OutboxKeys.PendingPartition} and SourcePartition ge {org} and SourcePartition lt {org + "~"}", ct)),
        new(EventFeed.TableName, StorageResourceKind.Table, OrgDataFate.Purged, "the org's event feed", (org, ct) => RemovePartitionAsync(EventFeed.TableName, org, ct)),
        new(AuditLog.TableName, StorageResourceKind.Table, OrgDataFate.Purged, "audit events", (org, ct) => RemovePartitionAsync(AuditLog.TableName, org, ct)),
        new(SentMail.TableName, StorageResourceKind.Table, OrgDataFate.Purged, "which of the org's mail was sent, and its daily counts",
            (org, ct) => RemovePartitionAsync(SentMail.TableName, org, ct)),
        new(ExportKeys.TableName, StorageResourceKind.Table, OrgDataFate.Purged, "the org's exports and their expiry entries", exports.DeleteAllOfAsync),
        new(ExportBook.Container, StorageResourceKind.BlobContainer, OrgDataFate.Purged, "export archives, removed with their export rows"),
        new(BillingIndex.TableName, StorageResourceKind.Table, OrgDataFate.Purged, "billing months still to close (all closed within the grace); an unfinished-invoice mark stays with the invoices",
            RemoveBillingMonthsAsync),
        new(OrgTable.Name, StorageResourceKind.Table, OrgDataFate.Purged, "the org, members, invitations, counters; the org row last", RemoveOrgPartitionAsync),

        new(InvoiceKeys.TableName, StorageResourceKind.Table, OrgDataFate.KeptForTax, "tax invoices (CGST Act s.36)", (org, ct) => RemovePartitionAsync(InvoiceKeys.TableName, org, ct)),
        new(CreditNoteKeys.TableName, StorageResourceKind.Table, OrgDataFate.KeptForTax, "credit notes (CGST Act s.36)", (org, ct) => RemovePartitionAsync(CreditNoteKeys.TableName, org, ct)),
        new(LedgerTable, StorageResourceKind.Table, OrgDataFate.KeptForTax, "the org's ledger: accounts the invoices and payments post to", (org, ct) => RemovePartitionAsync(LedgerTable, org, ct)),
        new(PaymentOwnerRow.TableName, StorageResourceKind.Table, OrgDataFate.KeptForTax, "which org each Razorpay payment belongs to, found through the payments", RemovePaymentOwnersAsync),
        new(razorpayInbox.Name, StorageResourceKind.Table, OrgDataFate.KeptForTax, "Razorpay's notifications of the org's payments, found through the payments"),
        new(InboxKeys.Container, StorageResourceKind.BlobContainer, OrgDataFate.KeptForTax, "bodies of large Razorpay notifications, removed with their inbox rows"),
        new(PaymentKeys.TableName, StorageResourceKind.Table, OrgDataFate.KeptForTax, "payments and refunds behind the invoices", (org, ct) => RemovePartitionAsync(PaymentKeys.TableName, org, ct)),
        new(InvoiceNumbering.TableName, StorageResourceKind.Table, OrgDataFate.KeptForTax,
            "the gap-free number series of each financial year: a number names its invoice and org, and the series is audited whole"),
        new(OrgPurgeSchedule.TableName, StorageResourceKind.Table, OrgDataFate.KeptForTax, "when the org's purge stages are due, and that its purge began (late writers check it); its last entries go with the records"),

        new(IdempotencyRegistration.TableName, StorageResourceKind.Table, OrgDataFate.ExpiresOnItsOwn,
            "replayable responses, keyed by a hash, encrypted, deleted 24 hours after the request by PurgeIdempotencyKeys"),
        new(Heartbeat.TableName, StorageResourceKind.Table, OrgDataFate.NoOrgData, "the platform's own heartbeat"),
        new(ErasureJobRow.TableName, StorageResourceKind.Table, OrgDataFate.NoOrgData, "erasure jobs, keyed by the erased user's pseudonym; their org lists name orgs, not org data"),
        new(RazorpayPlanRow.TableName, StorageResourceKind.Table, OrgDataFate.NoOrgData, "Razorpay plans of the catalogue's plans"),
        new(BlobKeyRing.Container, StorageResourceKind.BlobContainer, OrgDataFate.NoOrgData, "the Data Protection key ring"),
        new(Hosting.Standalone.TimerScheduler.StatusContainer, StorageResourceKind.BlobContainer, OrgDataFate.NoOrgData, "timer schedules and their leases"),
    ];

    /// <summary>Deletes every row of <paramref name="table"/> that <paramref name="filter"/> finds: one entity-group transaction per partition and hundred rows.</summary>
    public async Task<int> RemoveAsync(string table, FormattableString filter, CancellationToken cancellationToken)
    {
        var client = storage.Table(table);
        var removed = 0;
        var batch = new List<TableEntity>(100);
        await foreach (var row in client.QueryAsync<TableEntity>(TableClient.CreateQueryFilter(filter), maxPerPage: 1000, select: ["PartitionKey", "RowKey"], cancellationToken: cancellationToken))
        {
            if (batch.Count == 100 || (batch.Count > 0 && batch[0].PartitionKey != row.PartitionKey))
            {
                removed += await RemoveBatchAsync(client, batch, cancellationToken);
                batch.Clear();
            }

            batch.Add(row);
        }

        return removed + await RemoveBatchAsync(client, batch, cancellationToken);
    }

    private Task RemovePartitionAsync(string table, string partition, CancellationToken cancellationToken) =>
        RemoveAsync(table, $"PartitionKey eq {partition}", cancellationToken);

    private static async Task<int> RemoveBatchAsync(TableClient table, List<TableEntity> rows, CancellationToken cancellationToken)
    {
        if (rows.Count == 0)
        {
            return 0;
        }

        try
        {
            await table.SubmitTransactionAsync(rows.Select(r => new TableTransactionAction(TableTransactionActionType.Delete, r, ETag.All)), cancellationToken);
            return rows.Count;
        }
        catch (TableTransactionFailedException)
        {
            // A concurrent purge removed some first (a missing row fails the whole batch): one by one, missing ones skipped.
            var removed = 0;
            foreach (var row in rows)
            {
                removed += await RemoveRowAsync(table, row.PartitionKey, row.RowKey, ETag.All, cancellationToken) ? 1 : 0;
            }

            return removed;
        }
    }

    private static async Task<bool> RemoveRowAsync(TableClient table, string partition, string row, ETag etag, CancellationToken cancellationToken)
    {
        try
        {
            await table.DeleteEntityAsync(partition, row, etag, cancellationToken);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 412)
        {
            return false;
        }
    }

    private async Task<OrgRow?> FindOrgAsync(string orgId, CancellationToken cancellationToken)
    {
        var found = await storage.Table(OrgTable.Name).GetEntityIfExistsAsync<OrgRow>(orgId, OrgTable.OrgRowKey, cancellationToken: cancellationToken);
        return found.HasValue ? found.Value : null;
    }

    /// <summary>Rows of the org's partition of <paramref name="table"/> whose keys start with <paramref name="prefix"/>.</summary>
    private IAsyncEnumerable<TableEntity> PrefixedAsync(string table, string orgId, string prefix, string[] select, CancellationToken cancellationToken) =>
        storage.Table(table).QueryAsync<TableEntity>(
            TableClient.CreateQueryFilter($"PartitionKey eq {orgId} and RowKey ge {prefix} and RowKey lt {OrgTable.PrefixEnd(prefix)}"),
            select: ["PartitionKey", "RowKey", .. select], cancellationToken: cancellationToken);

    private async Task ReleaseSlugAsync(string orgId, CancellationToken cancellationToken)
    {
        if (await FindOrgAsync(orgId, cancellationToken) is not { } org)
        {
            return;
        }

        var slugs = storage.Table(OrgSlugRow.TableName);
        var claim = await slugs.GetEntityIfExistsAsync<OrgSlugRow>(org.Slug, "", cancellationToken: cancellationToken);
        if (claim.HasValue && claim.Value!.OrgId == orgId)
        {
            await RemoveRowAsync(slugs, org.Slug, "", claim.Value.ETag, cancellationToken);
        }
    }

    private async Task RemoveMemberIndexAsync(string orgId, CancellationToken cancellationToken)
    {
        var index = storage.Table(UserOrgRow.TableName);
        await foreach (var member in PrefixedAsync(OrgTable.Name, orgId, OrgTable.MemberPrefix, [], cancellationToken))
        {
            await RemoveRowAsync(index, member.RowKey[OrgTable.MemberPrefix.Length..], orgId, ETag.All, cancellationToken);
        }
    }

    private async Task RemoveInvitationTokensAsync(string orgId, CancellationToken cancellationToken)
    {
        await foreach (var invitation in PrefixedAsync(OrgTable.Name, orgId, OrgTable.InvitationPrefix, [nameof(InvitationRow.TokenHash)], cancellationToken))
        {
            if (invitation.GetString(nameof(InvitationRow.TokenHash)) is { Length: > 0 } hash)
            {
                await RemoveAsync(InvitationTokenRow.TableName, $"PartitionKey eq {hash}", cancellationToken);
            }
        }
    }

    private async Task RemoveKeyHashesAsync(string orgId, CancellationToken cancellationToken)
    {
        var hashes = storage.Table(ApiKeyHashRow.TableName);
        await foreach (var key in storage.Table(ApiKeyRow.TableName).QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {orgId}"),
            select: ["PartitionKey", "RowKey", nameof(ApiKeyRow.SecretHash), nameof(ApiKeyRow.PreviousSecretHash)], cancellationToken: cancellationToken))
        {
            foreach (var hash in new[] { key.GetString(nameof(ApiKeyRow.SecretHash)), key.GetString(nameof(ApiKeyRow.PreviousSecretHash)) })
            {
                if (hash is { Length: > 0 })
                {
                    await RemoveRowAsync(hashes, hash, "", ETag.All, cancellationToken);
                }
            }
        }
    }

    private async Task RemoveKeyExpiriesAsync(string orgId, CancellationToken cancellationToken)
    {
        var index = storage.Table(KeyExpiryRow.TableName);
        await foreach (var key in storage.Table(ApiKeyRow.TableName).QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {orgId}"),
            select: ["PartitionKey", "RowKey", nameof(ApiKeyRow.ExpiresAt)], cancellationToken: cancellationToken))
        {
            if (key.GetDateTimeOffset(nameof(ApiKeyRow.ExpiresAt)) is { } expires)
            {
                await RemoveRowAsync(index, KeyExpiryIndex.DayOf(expires), KeyExpiryIndex.RowKeyFor(orgId, key.RowKey), ETag.All, cancellationToken);
            }
        }
    }

    private async Task RemoveRateLimitsAsync(string orgId, CancellationToken cancellationToken)
    {
        var buckets = storage.Table(rateLimits.Value.Table);
        var names = new List<string> { "org:" + orgId, "org-users:" + orgId };
        await foreach (var key in storage.Table(ApiKeyRow.TableName).QueryAsync<TableEntity>(
            TableClient.CreateQueryFilter($"PartitionKey eq {orgId} and RowKey ne {OrgCountersRow.Key}"), select: ["PartitionKey", "RowKey"], cancellationToken: cancellationToken))
        {
            if (!key.RowKey.StartsWith(OutboxKeys.RowPrefix, StringComparison.Ordinal))
            {
                names.Add("key:" + key.RowKey);
            }
        }

        foreach (var name in names)
        {
            await RemoveRowAsync(buckets, SharedBucketRow.KeyFor(name), SharedBucketRow.Row, ETag.All, cancellationToken);
        }
    }

    /// <summary>
    /// The endpoints, then their send-limit buckets: named by org and endpoint (ids need no hashing), one
    /// key range, taken after the endpoints so a delivery racing the purge cannot leave one behind.
    /// </summary>
    private async Task RemoveWebhookEndpointsAsync(string orgId, CancellationToken cancellationToken)
    {
        await RemovePartitionAsync(WebhookEndpointRow.TableName, orgId, cancellationToken);
        var buckets = storage.Table(rateLimits.Value.Table);
        var prefix = $"webhook:{orgId}:";
        await foreach (var bucket in buckets.QueryAsync<TableEntity>(
            TableClient.CreateQueryFilter($"PartitionKey ge {prefix} and PartitionKey lt {prefix[..^1] + ";"}"), select: ["PartitionKey", "RowKey"], cancellationToken: cancellationToken))
        {
            await RemoveRowAsync(buckets, bucket.PartitionKey, bucket.RowKey, ETag.All, cancellationToken);
        }
    }

    /// <summary>The months an org can still be listed in: from the month before its deletion to the month after its purge.</summary>
    private async Task RemoveBillingMonthsAsync(string orgId, CancellationToken cancellationToken)
    {
        if (await FindOrgAsync(orgId, cancellationToken) is not { DeletedAt: { } deletedAt } org)
        {
            return;
        }

        var last = BillingIndex.PeriodOf(org.PurgeAfter ?? deletedAt).AddMonths(1);
        for (var month = BillingIndex.PeriodOf(deletedAt).AddMonths(-1); month <= last; month = month.AddMonths(1))
        {
            await billing.SettleAsync(orgId, month, cancellationToken);
        }
    }

    private async Task RemoveOrgPartitionAsync(string orgId, CancellationToken cancellationToken)
    {
        await RemoveAsync(OrgTable.Name, $"PartitionKey eq {orgId} and RowKey ne {OrgTable.OrgRowKey}", cancellationToken);
        await RemoveRowAsync(storage.Table(OrgTable.Name), orgId, OrgTable.OrgRowKey, ETag.All, cancellationToken);
    }

    /// <summary>Each payment's owner row and the Razorpay notifications it came from (their large bodies too); the payments themselves go after.</summary>
    private async Task RemovePaymentOwnersAsync(string orgId, CancellationToken cancellationToken)
    {
        var owners = storage.Table(PaymentOwnerRow.TableName);
        var inbox = storage.Table(razorpayInbox.Name);
        await foreach (var payment in storage.Table(PaymentKeys.TableName).QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {orgId}"),
            select: ["PartitionKey", "RowKey", nameof(PaymentRow.PaymentId)], cancellationToken: cancellationToken))
        {
            if (payment.GetString(nameof(PaymentRow.PaymentId)) is not { Length: > 0 } paymentId)
            {
                continue;
            }

            await foreach (var owner in owners.QueryAsync<PaymentOwnerRow>(TableClient.CreateQueryFilter($"PartitionKey eq {paymentId}"), cancellationToken: cancellationToken))
            {
                if (owner.OrgId == orgId && owner.SourceEventId is { Length: > 0 } eventId)
                {
                    await foreach (var notification in inbox.QueryAsync<InboxRow>(TableClient.CreateQueryFilter($"PartitionKey eq {eventId}"), cancellationToken: cancellationToken))
                    {
                        if (notification.BodyBlob is { Length: > 0 } blob)
                        {
                            await storage.Container(InboxKeys.Container).GetBlobClient(blob).DeleteIfExistsAsync(cancellationToken: cancellationToken);
                        }

                        await RemoveRowAsync(inbox, notification.PartitionKey, notification.RowKey, ETag.All, cancellationToken);
                    }
                }

                await RemoveRowAsync(owners, owner.PartitionKey, owner.RowKey, ETag.All, cancellationToken);
            }
        }
    }
}

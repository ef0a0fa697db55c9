using Azure.Data.Tables;
using RaptorFlow.Functions.ApiKeys;
using RaptorFlow.Functions.Audit;
using RaptorFlow.Functions.CreditNotes;
using RaptorFlow.Functions.Invoices;
using RaptorFlow.Functions.Organizations;
using RaptorFlow.Functions.Plans;
using RaptorFlow.Functions.Platform.Storage;
using RaptorFlow.Functions.Usage;
using RaptorFlow.Functions.Webhooks;

namespace RaptorFlow.Functions.Privacy;

/// <summary>What an export holds: the files of an org's export and of a user's.</summary>
public static class ExportContents
{
    /// <summary>Bumped whenever a file's name or columns change, so readers of old archives can tell.</summary>
    public const int SchemaVersion = 1;

    private const string LedgerTable = "Ledger";

    public static IReadOnlyList<ExportSection> OfOrg(string orgId) =>
    [
        ExportSection.Query("org.ndjson", OrgTable.Name, $"PartitionKey eq {orgId} and RowKey eq {OrgTable.OrgRowKey}"),
        ExportSection.Query("members.ndjson", OrgTable.Name, ExportSection.Prefixed(orgId, OrgTable.MemberPrefix)),
        ExportSection.Query("invitations.ndjson", OrgTable.Name, ExportSection.Prefixed(orgId, OrgTable.InvitationPrefix)),
        // Every key of the org, not its stats counters row.
        ExportSection.Query("api-keys.ndjson", ApiKeyRow.TableName, $"PartitionKey eq {orgId} and RowKey ne {Stats.OrgCountersRow.Key}"),
        ExportSection.Query("subscription.ndjson", SubscriptionRow.TableName, $"PartitionKey eq {orgId}"),
        ExportSection.Query("usage-totals.ndjson", UsageTotalRow.TableName, $"PartitionKey eq {orgId}"),
        // Every event as first received; the hourly copies hold the same events.
        ExportSection.Query("usage-events.ndjson", UsageEventIdRow.TableName, $"PartitionKey eq {orgId}"),
        ExportSection.Query("invoices.ndjson", InvoiceKeys.TableName, $"PartitionKey eq {orgId}"),
        ExportSection.Query("credit-notes.ndjson", CreditNoteKeys.TableName, $"PartitionKey eq {orgId}"),
        ExportSection.Query("ledger-accounts.ndjson", LedgerTable, ExportSection.Prefixed(orgId, "bal|")),
        ExportSection.Query("ledger-transactions.ndjson", LedgerTable, ExportSection.Prefixed(orgId, "txn|")),
        ExportSection.Query("ledger-lines.ndjson", LedgerTable, ExportSection.Prefixed(orgId, "line|")),
        ExportSection.Query("audit-events.ndjson", AuditLog.TableName, $"PartitionKey eq {orgId}"),
        ExportSection.Query("webhook-endpoints.ndjson", WebhookEndpointRow.TableName, $"PartitionKey eq {orgId}"),
        // Every endpoint's partition ({orgId}_{endpointId}), without the bodies: they are the events exported above.
        ExportSection.Query("webhook-deliveries.ndjson", WebhookMessageRow.TableName,
            $"PartitionKey ge {orgId + "_"} and PartitionKey lt {ExportSection.PrefixEnd(orgId + "_")}", WebhookMessageRow.LogColumns),
    ];

    /// <summary>The user's own data: their profile as they signed in, memberships, invitations sent and received, and what they did.</summary>
    public static IReadOnlyList<ExportSection> OfUser(string userId, string? email, string? name)
    {
        var reference = $"user:{userId}";
        var profile = new TableEntity { ["UserId"] = userId, ["Email"] = email, ["Name"] = name };
        return
        [
            new("profile.ndjson", (_, _) => new[] { profile }.ToAsyncEnumerable()),
            new("memberships.ndjson", (s, ct) => MembershipsAsync(s, userId, ct), "orgId"),
            ExportSection.Across("invitations-sent.ndjson", (s, ct) => OrgsOfAsync(s, userId, ct), orgId =>
                ExportSection.Query("", OrgTable.Name, $"PartitionKey eq {orgId} and RowKey ge {OrgTable.InvitationPrefix} and RowKey lt {ExportSection.PrefixEnd(OrgTable.InvitationPrefix)} and InvitedBy eq {reference}")),
            // Invitations to the address may come from orgs the user never joined; a rare request, so one filtered scan.
            ExportSection.Query("invitations-received.ndjson", OrgTable.Name,
                $"RowKey ge {OrgTable.InvitationPrefix} and RowKey lt {ExportSection.PrefixEnd(OrgTable.InvitationPrefix)} and Email eq {email ?? "\u0000"}", partitionAs: "orgId"),
            ExportSection.Across("audit-events.ndjson", (s, ct) => OrgsOfAsync(s, userId, ct), orgId =>
                ExportSection.Query("", AuditLog.TableName, $"PartitionKey eq {orgId} and ActorRef eq {reference}")),
        ];
    }

    /// <summary>The orgs the user's index names (including ones whose membership since ended, for their history).</summary>
    private static async IAsyncEnumerable<string> OrgsOfAsync(StorageAccount storage, string userId,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var entry in storage.Table(UserOrgRow.TableName).QueryAsync<TableEntity>(
            TableClient.CreateQueryFilter($"PartitionKey eq {userId}"), select: ["RowKey"], cancellationToken: cancellationToken))
        {
            yield return entry.RowKey;
        }
    }

    private static async IAsyncEnumerable<TableEntity> MembershipsAsync(StorageAccount storage, string userId,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var orgs = storage.Table(OrgTable.Name);
        await foreach (var orgId in OrgsOfAsync(storage, userId, cancellationToken))
        {
            var member = await orgs.GetEntityIfExistsAsync<TableEntity>(orgId, OrgTable.MemberRowKey(userId), cancellationToken: cancellationToken);
            if (member.HasValue)
            {
                yield return member.Value!;
            }
        }
    }
}

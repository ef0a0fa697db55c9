using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Data.Tables;
using RaptorFlow.Functions.Audit;
using RaptorFlow.Functions.Events;
using RaptorFlow.Functions.Invitations;
using RaptorFlow.Functions.Members;
using RaptorFlow.Functions.Organizations;
using RaptorFlow.Functions.Platform.Access;
using RaptorFlow.Functions.Platform.Storage;
using RaptorFlow.Functions.Webhooks;

namespace RaptorFlow.Functions.Privacy;

/// <summary>What erasing a user would touch: the orgs whose records hold them, or the orgs that still need them as their last owner.</summary>
public sealed record ErasurePlan(string Pseudonym, IReadOnlyList<string> Orgs, IReadOnlyList<string> LastOwnerOf);

/// <summary>Who is erased: the signed-in user's id, and the address and name their token carries (stored nowhere by the erasure).</summary>
public sealed record ErasureSubject(string UserId, string? Email, string? Name)
{
    public string Reference => $"{CallerClaims.UserKind}:{UserId}";

    public static ErasureSubject Of(Caller caller) => new(caller.Id, caller.Email, caller.Name);
}

/// <summary>
/// Erases a user: leaves every org and closes every pending invitation to them through the member
/// and invitation stores (so counts, index entries, tokens and events stay right), then replaces
/// their email, name and id in every row of those orgs that holds them (audit events, invitation
/// rows, the event feed, webhook deliveries) with a stable pseudonym. Invoices and the ledger name
/// the org, not the user, and are not touched. Every step finds its own work again, so a repeated
/// or resumed run finishes what is left and does nothing twice.
/// </summary>
public sealed class UserErasure(
    StorageAccount storage, OrgDirectory directory, MemberRoster roster, InvitationBook invitations, ExportBook exports, AuditLog audit)
{
    public const string PseudonymPrefix = "erased-";

    /// <summary>The same user always gets the same pseudonym, so history of one person still reads as one person.</summary>
    public static string PseudonymOf(string userId) =>
        PseudonymPrefix + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("raptorflow-erasure:" + userId)))[..20];

    /// <summary>Decides, changing nothing, whether the user may be erased and which orgs' records hold them.</summary>
    public async Task<ErasurePlan> PlanAsync(ErasureSubject user, CancellationToken cancellationToken)
    {
        var pseudonym = PseudonymOf(user.UserId);
        var memberOf = await MembershipsAsync(user.UserId, cancellationToken);
        var lastOwnerOf = memberOf.Where(m => m.Org is { IsDeleted: false, OwnerCount: <= 1 } && m.Member?.ParsedRole == Role.Owner).Select(m => m.OrgId).ToList();
        if (lastOwnerOf.Count > 0)
        {
            return new ErasurePlan(pseudonym, [], lastOwnerOf);
        }

        var invited = await PendingInvitationsAsync(user.Email, cancellationToken);
        var orgs = memberOf.Select(m => m.OrgId).Concat(invited.Select(i => i.PartitionKey)).Distinct(StringComparer.Ordinal).ToList();
        return new ErasurePlan(pseudonym, orgs, []);
    }

    /// <summary>
    /// Erases the user from <paramref name="orgs"/>, skipping the first <paramref name="orgsDone"/> already
    /// rewritten; <paramref name="progressed"/> hears each org finished. <paramref name="erasureId"/> and
    /// <paramref name="at"/> fix the <c>user.erased</c> events, so a repeat of the same erasure adds none.
    /// Returns the org the user became the last owner of meanwhile, if that stopped it.
    /// </summary>
    public async Task<string?> CarryOutAsync(
        ErasureSubject user, IReadOnlyList<string> orgs, int orgsDone, string erasureId, DateTimeOffset at,
        Func<int, Task> progressed, CancellationToken cancellationToken)
    {
        var pseudonym = PseudonymOf(user.UserId);
        foreach (var (orgId, _, _) in (await MembershipsAsync(user.UserId, cancellationToken)).Where(m => m.Member is not null))
        {
            var left = await roster.LeaveAsync(orgId, user.UserId, null);
            if (left.Outcome == MemberOutcome.LastOwner)
            {
                // Another owner left meanwhile.
                return orgId;
            }
        }

        foreach (var invitation in await PendingInvitationsAsync(user.Email, cancellationToken))
        {
            await invitations.RevokeAsync(invitation.PartitionKey, invitation.InvitationId);
        }

        var replacements = Replacements(user, pseudonym);
        for (var i = orgsDone; i < orgs.Count; i++)
        {
            var orgId = orgs[i];
            await ScrubAsync(OrgTable.Name, TableClient.CreateQueryFilter($"PartitionKey eq {orgId}"), replacements, user.Reference, cancellationToken);
            await ScrubAsync(AuditLog.TableName, TableClient.CreateQueryFilter($"PartitionKey eq {orgId}"), replacements, user.Reference, cancellationToken);
            await ScrubAsync(EventFeed.TableName, TableClient.CreateQueryFilter($"PartitionKey eq {orgId}"), replacements, user.Reference, cancellationToken);
            await ScrubAsync(WebhookMessageRow.TableName,
                TableClient.CreateQueryFilter($"PartitionKey ge {orgId + "_"} and PartitionKey lt {ExportSection.PrefixEnd(orgId + "_")}"), replacements, user.Reference, cancellationToken);
            await audit.RecordOnceAsync(orgId, AuditActor.System("privacy"), new AuditEntry("user.erased", "user", pseudonym), at, $"{erasureId}|{orgId}");
            await progressed(i + 1);
        }

        await RemoveIndexAsync(user.UserId, cancellationToken);
        await exports.DeleteAllOfAsync(ExportKeys.Partition(ExportScope.User, user.UserId), cancellationToken);
        return null;
    }

    private async Task<List<(string OrgId, OrgRow? Org, MemberRow? Member)>> MembershipsAsync(string userId, CancellationToken cancellationToken)
    {
        var found = new List<(string, OrgRow?, MemberRow?)>();
        await foreach (var entry in storage.Table(UserOrgRow.TableName).QueryAsync<UserOrgRow>(
            TableClient.CreateQueryFilter($"PartitionKey eq {userId}"), cancellationToken: cancellationToken))
        {
            found.Add((entry.RowKey, await directory.FindAsync(entry.RowKey, cancellationToken), await directory.FindMemberAsync(entry.RowKey, userId, cancellationToken)));
        }

        return found;
    }

    /// <summary>Invitations to the address in any org; a rare request, so one filtered scan of the invitation rows.</summary>
    private async Task<List<InvitationRow>> PendingInvitationsAsync(string? email, CancellationToken cancellationToken)
    {
        if (email is null)
        {
            return [];
        }

        var found = new List<InvitationRow>();
        await foreach (var row in storage.Table(OrgTable.Name).QueryAsync<InvitationRow>(TableClient.CreateQueryFilter(
            $"RowKey ge {OrgTable.InvitationPrefix} and RowKey lt {ExportSection.PrefixEnd(OrgTable.InvitationPrefix)} and Email eq {email}"), cancellationToken: cancellationToken))
        {
            found.Add(row);
        }

        return found;
    }

    private static List<(string Find, string Replace)> Replacements(ErasureSubject user, string pseudonym)
    {
        var list = new List<(string, string)>();
        if (user.Email is { Length: > 0 } email)
        {
            list.Add((email, $"{pseudonym}@erased.invalid"));
        }

        // A name of one or two letters would match inside unrelated words.
        if (user.Name is { Length: > 2 } name)
        {
            list.Add((name, pseudonym));
        }

        list.Add((user.UserId, pseudonym));
        return list;
    }

    /// <summary>Rewrites every row of <paramref name="filter"/> that mentions the user, in text and in JSON held as bytes.</summary>
    private async Task ScrubAsync(string tableName, string filter, List<(string Find, string Replace)> replacements, string reference, CancellationToken cancellationToken)
    {
        var table = storage.Table(tableName);
        await foreach (var row in table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            var changed = false;
            if (tableName == AuditLog.TableName && string.Equals(row.GetString("ActorRef"), reference, StringComparison.Ordinal)
                && (row.GetString("Ip") is not null || row.GetString("UserAgent") is not null))
            {
                // Where they acted from and with what says who they are as well as a name does.
                row["Ip"] = null;
                row["UserAgent"] = null;
                changed = true;
            }

            foreach (var (column, value) in row.ToList())
            {
                object? scrubbed = value switch
                {
                    string text when column is not ("PartitionKey" or "RowKey" or "odata.etag") => Replace(text, replacements),
                    byte[] bytes => Replace(Encoding.UTF8.GetString(bytes), replacements) is { } text ? Encoding.UTF8.GetBytes(text) : null,
                    BinaryData data => Replace(data.ToString(), replacements) is { } text ? BinaryData.FromString(text) : null,
                    _ => null,
                };
                if (scrubbed is not null)
                {
                    row[column] = scrubbed;
                    changed = true;
                }
            }

            if (changed)
            {
                try
                {
                    await table.UpdateEntityAsync(row, row.ETag, TableUpdateMode.Replace, cancellationToken);
                }
                catch (RequestFailedException ex) when (ex.Status is 404 or 412)
                {
                    // Gone or changed meanwhile; a repeated erasure scrubs what is left.
                }
            }
        }
    }

    private static string? Replace(string text, List<(string Find, string Replace)> replacements)
    {
        var result = text;
        foreach (var (find, replace) in replacements)
        {
            result = result.Replace(find, replace, StringComparison.OrdinalIgnoreCase);
        }

        return ReferenceEquals(result, text) || result == text ? null : result;
    }

    private async Task RemoveIndexAsync(string userId, CancellationToken cancellationToken)
    {
        var table = storage.Table(UserOrgRow.TableName);
        await foreach (var entry in table.QueryAsync<UserOrgRow>(TableClient.CreateQueryFilter($"PartitionKey eq {userId}"), cancellationToken: cancellationToken))
        {
            try
            {
                await table.DeleteEntityAsync(entry.PartitionKey, entry.RowKey, ETag.All, cancellationToken);
            }
            catch (RequestFailedException ex) when (ex.Status == 404)
            {
            }
        }
    }
}

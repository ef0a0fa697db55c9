using Azure.Data.Tables;
using RaptorFlow.Functions.Events;
using RaptorFlow.Functions.Mail;
using RaptorFlow.Functions.Members;
using RaptorFlow.Functions.Organizations;
using RaptorFlow.Functions.Platform.Access;
using RaptorFlow.Functions.Platform.Ids;
using RaptorFlow.Functions.Platform.Paging;
using RaptorFlow.Functions.Platform.Storage;
using RaptorFlow.Functions.Stats;

namespace RaptorFlow.Functions.Invitations;

/// <summary>An org's invitations: issued with a one-time token, replaced by a re-invite, revoked, accepted.</summary>
public sealed class InvitationBook(
    OrgPartition partition, OrgDirectory directory, MemberRoster roster, OrgCounters counters, InvitationMail mail, StorageAccount storage, IdGenerator ids, TimeProvider time)
{
    private TableClient Tokens => storage.Table(InvitationTokenRow.TableName);

    /// <summary>
    /// Invites <paramref name="email"/>; a pending invitation to the same email is replaced in the same
    /// transaction. Once it is committed, the invitation mail (with the token) goes on the mail queue.
    /// </summary>
    public async Task<IssuedInvitation> CreateAsync(string orgId, string email, Role role, int expiresInDays, Caller inviter)
    {
        var now = time.GetUtcNow();
        var token = InvitationTokens.New();
        var invitation = NewInvitation(orgId, email, role, expiresInDays, inviter, InvitationTokens.Hash(token), now);

        // The token's lookup row first: alone it points at an invitation that does not exist yet, which accept treats as unknown.
        await Tokens.AddEntityAsync(new InvitationTokenRow
        {
            PartitionKey = invitation.TokenHash,
            RowKey = "",
            OrgId = orgId,
            InvitationId = invitation.InvitationId,
        });

        string? replaced = null;
        await OptimisticConcurrency.RunAsync(
            ConcurrencyPolicy.Counted,
            async _ =>
            {
                var counted = new CounterChange().Opened(invitation.ExpiresAt);
                var (actions, replacing) = await ReplaceEmailPointerAsync(invitation, now, counted);
                replaced = replacing;
                actions.Add(await counters.StageAsync(OrgTable.Name, orgId, counted));
                actions.Add(new(TableTransactionActionType.Add, invitation));
                var created = await partition.StageAsync(orgId, EventTypes.InvitationCreated, InvitationsApi.ToResponse(invitation));
                var results = await partition.CommitAsync(actions, [created]);
                invitation.ETag = results[^1].Headers.ETag ?? default;
                return true;
            },
            CancellationToken.None);
        if (await directory.FindAsync(orgId, CancellationToken.None) is { IsDeleted: false } org)
        {
            await mail.SendAsync(org, invitation.InvitationId, invitation.Email, role, invitation.ExpiresAt, token, inviter, CancellationToken.None);
        }

        return new IssuedInvitation(invitation, token, replaced);
    }

    public Task<(IReadOnlyList<InvitationRow> Items, string? NextCursor)> ListPendingAsync(string orgId, PageRequest page, CancellationToken cancellationToken)
    {
        var pending = Wire(InvitationStatus.Pending);
        var now = time.GetUtcNow();
        // The filter holds the current time; the cursor is bound to the list, so the next page still reads.
        return partition.ReadPageAsync<InvitationRow>(
            orgId, OrgTable.InvitationPrefix, page, cancellationToken, $"Status eq {pending} and ExpiresAt gt {now}", scope: $"invitations:{orgId}:pending");
    }

    /// <summary>Revokes a pending invitation: <see cref="InvitationOutcome.Done"/>; one closed before answers how it was closed.</summary>
    public async Task<InvitationOutcome> RevokeAsync(string orgId, string invitationId)
    {
        if (!IdGenerator.IsWellFormed(invitationId, "inv"))
        {
            return InvitationOutcome.NotFound;
        }

        return await OptimisticConcurrency.RunAsync<InvitationOutcome>(
            ConcurrencyPolicy.Counted,
            async _ =>
            {
                var invitation = await partition.FindAsync<InvitationRow>(orgId, InvitationRow.RowKeyFor(invitationId));
                switch (invitation?.ParsedStatus)
                {
                    case null:
                        return InvitationOutcome.NotFound;
                    case InvitationStatus.Revoked or InvitationStatus.Replaced:
                        return InvitationOutcome.Revoked;
                    case InvitationStatus.Accepted:
                        return InvitationOutcome.Used;
                }

                invitation.Status = Wire(InvitationStatus.Revoked);
                invitation.ClosedAt = time.GetUtcNow();
                await partition.CommitAsync(
                [
                    new(TableTransactionActionType.UpdateReplace, invitation, invitation.ETag),
                    await counters.StageAsync(OrgTable.Name, orgId, new CounterChange().Closed(invitation.ExpiresAt)),
                ]);
                return InvitationOutcome.Done;
            },
            CancellationToken.None);
    }

    /// <summary>The signed-in <paramref name="user"/> takes up the invitation <paramref name="token"/> names and joins its org through the roster.</summary>
    public async Task<Acceptance> AcceptAsync(string token, Caller user)
    {
        var pointer = await Tokens.GetEntityIfExistsAsync<InvitationTokenRow>(InvitationTokens.Hash(token), "");
        if (!pointer.HasValue)
        {
            return new Acceptance(InvitationOutcome.NotFound);
        }

        var (orgId, invitationId) = (pointer.Value!.OrgId, pointer.Value.InvitationId);
        return await OptimisticConcurrency.RunAsync<Acceptance>(ConcurrencyPolicy.Counted, _ => TryAcceptAsync(orgId, invitationId, user), CancellationToken.None);
    }

    private async Task<Attempt<Acceptance>> TryAcceptAsync(string orgId, string invitationId, Caller user)
    {
        var orgTask = directory.FindAsync(orgId, CancellationToken.None);
        var invitationTask = partition.FindAsync<InvitationRow>(orgId, InvitationRow.RowKeyFor(invitationId));
        var memberTask = directory.FindMemberAsync(orgId, user.Id, CancellationToken.None);
        var (org, invitation, member) = (await orgTask, await invitationTask, await memberTask);
        var now = time.GetUtcNow();
        if (org is null || org.IsDeleted || invitation is null)
        {
            return new Acceptance(InvitationOutcome.NotFound);
        }

        if (Refusal(invitation, user, now) is { } refused)
        {
            return new Acceptance(refused);
        }

        invitation.Status = Wire(InvitationStatus.Accepted);
        invitation.AcceptedBy = user.Id;
        invitation.ClosedAt = now;
        var actions = new List<TableTransactionAction> { new(TableTransactionActionType.UpdateReplace, invitation, invitation.ETag) };
        var role = RoleCatalog.TryParse(invitation.Role, out var invited) ? invited : Role.Viewer;
        List<StagedEvent> events = [await partition.StageAsync(orgId, EventTypes.InvitationAccepted, InvitationsApi.ToResponse(invitation))];
        var counted = new CounterChange().Closed(invitation.ExpiresAt);
        if (member is null)
        {
            var (join, added) = await roster.PrepareJoinAsync(org, user, role, now, counted);
            actions.AddRange(join);
            events.Add(added);
        }

        actions.Add(await counters.StageAsync(OrgTable.Name, orgId, counted));

        // 409/412: another accept (or membership change) won the race: decide again on fresh rows.
        await partition.CommitAsync(actions, events);
        return new Acceptance(InvitationOutcome.Done, orgId, invitationId, member?.ParsedRole ?? role, member is not null);
    }

    private InvitationRow NewInvitation(string orgId, string email, Role role, int expiresInDays, Caller inviter, string tokenHash, DateTimeOffset now)
    {
        var invitationId = ids.New("inv");
        return new InvitationRow
        {
            PartitionKey = orgId,
            RowKey = InvitationRow.RowKeyFor(invitationId),
            InvitationId = invitationId,
            Email = email,
            Role = role.ToWire(),
            Status = Wire(InvitationStatus.Pending),
            InvitedBy = inviter.Reference,
            CreatedAt = now,
            ExpiresAt = now.AddDays(expiresInDays),
            TokenHash = tokenHash,
        };
    }

    internal static string Wire(InvitationStatus status) => status.ToString().ToLowerInvariant();

    private static InvitationOutcome? Refusal(InvitationRow invitation, Caller user, DateTimeOffset now) => invitation.ParsedStatus switch
    {
        InvitationStatus.Accepted => InvitationOutcome.Used,
        InvitationStatus.Revoked or InvitationStatus.Replaced => InvitationOutcome.Revoked,
        _ when invitation.ExpiresAt <= now => InvitationOutcome.Expired,
        // The invitation names an address; a token that names none cannot prove it is that person.
        _ when user.Email is null => InvitationOutcome.EmailRequired,
        _ when !string.Equals(user.Email, Caller.NormalizeEmail(invitation.Email), StringComparison.Ordinal) => InvitationOutcome.EmailMismatch,
        _ => null,
    };

    /// <summary>
    /// The actions that point the org's email entry at <paramref name="invitation"/>, replacing the
    /// pending invitation it pointed at (whose id is returned, and whose closing joins <paramref name="counted"/>);
    /// the caller adds the invitation and commits.
    /// </summary>
    private async Task<(List<TableTransactionAction> Actions, string? Replaced)> ReplaceEmailPointerAsync(InvitationRow invitation, DateTimeOffset now, CounterChange counted)
    {
        var orgId = invitation.PartitionKey;
        var pointerKey = InvitationEmailRow.RowKeyFor(invitation.Email);
        var current = await partition.FindAsync<InvitationEmailRow>(orgId, pointerKey);
        if (current is null)
        {
            return ([new(TableTransactionActionType.Add, new InvitationEmailRow { PartitionKey = orgId, RowKey = pointerKey, InvitationId = invitation.InvitationId })], null);
        }

        var actions = new List<TableTransactionAction>();
        string? replaced = null;
        var previous = await partition.FindAsync<InvitationRow>(orgId, InvitationRow.RowKeyFor(current.InvitationId));
        if (previous is { ParsedStatus: InvitationStatus.Pending })
        {
            previous.Status = Wire(InvitationStatus.Replaced);
            previous.ClosedAt = now;
            actions.Add(new(TableTransactionActionType.UpdateReplace, previous, previous.ETag));
            counted.Closed(previous.ExpiresAt);
            replaced = previous.InvitationId;
        }

        current.InvitationId = invitation.InvitationId;
        actions.Add(new(TableTransactionActionType.UpdateReplace, current, current.ETag));
        return (actions, replaced);
    }
}

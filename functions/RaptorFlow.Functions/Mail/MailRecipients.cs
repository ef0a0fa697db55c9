using RaptorFlow.Functions.Members;
using RaptorFlow.Functions.Organizations;
using RaptorFlow.Functions.Platform.Access;
using RaptorFlow.Functions.Platform.Paging;

namespace RaptorFlow.Functions.Mail;

/// <summary>Who in an org receives which mail, from its member rows (the addresses their sign-ins carried).</summary>
public sealed class MailRecipients(MemberRoster roster, OrgDirectory directory)
{
    /// <summary>The org's owners and admins that have an address.</summary>
    public async Task<IReadOnlyList<MailRecipient>> OwnersAndAdminsAsync(string orgId, CancellationToken cancellationToken)
    {
        var found = new List<MailRecipient>();
        string? cursor = null;
        do
        {
            var (members, next) = await roster.ListAsync(orgId, new PageRequest(PageRequest.MaxLimit, cursor), cancellationToken);
            found.AddRange(members
                .Where(m => m.ParsedRole.IsAtLeast(Role.Admin) && m.Email is not null)
                .Select(m => new MailRecipient(m.Email!, m.Name)));
            cursor = next;
        }
        while (cursor is not null);

        return found;
    }

    /// <summary>Billing mail goes to the org's billing email when it has one, else to its owners and admins.</summary>
    public async Task<IReadOnlyList<MailRecipient>> BillingContactsAsync(OrgRow org, CancellationToken cancellationToken) =>
        org.BillingEmail is { } billing ? [new MailRecipient(billing)] : await OwnersAndAdminsAsync(org.OrgId, cancellationToken);

    /// <summary>The member a caller reference (<c>user:{id}</c>) names, while they are a member with an address; else null.</summary>
    public async Task<MailRecipient?> MemberAsync(string orgId, string? reference, CancellationToken cancellationToken)
    {
        var prefix = CallerClaims.UserKind + ":";
        if (reference is null || !reference.StartsWith(prefix, StringComparison.Ordinal))
        {
            return null;
        }

        var member = await directory.FindMemberAsync(orgId, reference[prefix.Length..], cancellationToken);
        return member?.Email is { } email ? new MailRecipient(email, member.Name) : null;
    }
}

namespace RaptorFlow.Functions.Platform.Access;

/// <summary>
/// The unit of authorization. Org capabilities come from the caller's role in the org (users) or
/// are carried by the key (API keys); personal capabilities belong to every signed-in user;
/// <see cref="PlatformAdmin"/> is granted by configuration to named user ids.
/// </summary>
public static class Capability
{
    public const string OrgRead = "org:read";
    public const string OrgWrite = "org:write";
    public const string OrgDelete = "org:delete";
    public const string OrgTransfer = "org:transfer";
    public const string OrgExport = "org:export";
    public const string MembersRead = "members:read";
    public const string MembersManage = "members:manage";
    public const string MembersLeave = "members:leave";
    public const string InvitationsManage = "invitations:manage";
    public const string ApiKeysManage = "apikeys:manage";
    public const string BillingRead = "billing:read";
    public const string BillingManage = "billing:manage";
    public const string LedgerRead = "ledger:read";
    public const string UsageRead = "usage:read";
    public const string UsageWrite = "usage:write";
    public const string AuditRead = "audit:read";
    public const string EventsRead = "events:read";
    public const string WebhooksManage = "webhooks:manage";
    public const string PaymentsRefund = "payments:refund";

    // Personal: what any signed-in user may do outside an org.
    public const string ProfileRead = "profile:read";
    public const string OrgsCreate = "orgs:create";
    public const string InvitationsAccept = "invitations:accept";
    public const string ProfileExport = "profile:export";
    public const string ProfileErase = "profile:erase";

    public const string PlatformAdmin = "platform:admin";

    /// <summary>Capabilities that exist inside an org; the only ones an API key may carry.</summary>
    public static IReadOnlySet<string> OrgScoped { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        OrgRead, OrgWrite, OrgDelete, OrgTransfer, OrgExport, MembersRead, MembersManage, MembersLeave, InvitationsManage,
        ApiKeysManage, BillingRead, BillingManage, LedgerRead, UsageRead, UsageWrite, AuditRead, EventsRead, WebhooksManage, PaymentsRefund,
    };

    public static IReadOnlySet<string> Personal { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        ProfileRead, OrgsCreate, InvitationsAccept, ProfileExport, ProfileErase,
    };

    public static bool IsKnown(string capability) =>
        OrgScoped.Contains(capability) || Personal.Contains(capability) || capability == PlatformAdmin;
}

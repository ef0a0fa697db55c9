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

    // Personal: what any signed-in user may do outside an org.
    public const string ProfileRead = "profile:read";
    public const string OrgsCreate = "orgs:create";
    public const string InvitationsAccept = "invitations:accept";

    public const string PlatformAdmin = "platform:admin";

    /// <summary>Capabilities that exist inside an org; the only ones an API key may carry.</summary>
    public static IReadOnlySet<string> OrgScoped { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        OrgRead, OrgWrite, OrgDelete, OrgTransfer, MembersRead, MembersManage, MembersLeave, InvitationsManage,
        ApiKeysManage, BillingRead, BillingManage, LedgerRead, UsageRead, UsageWrite, AuditRead, EventsRead, WebhooksManage,
    };

    public static IReadOnlySet<string> Personal { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        ProfileRead, OrgsCreate, InvitationsAccept,
    };

    public static bool IsKnown(string capability) =>
        OrgScoped.Contains(capability) || Personal.Contains(capability) || capability == PlatformAdmin;
}

/// <summary>A member's role; declared from most to least powerful. Each role holds every capability of the roles below it.</summary>
public enum Role
{
    Owner,
    Admin,
    Member,
    Viewer,
}

public static class RoleCatalog
{
    private static readonly string[] ViewerCapabilities =
    [
        Capability.OrgRead, Capability.MembersRead, Capability.MembersLeave, Capability.BillingRead,
        Capability.LedgerRead, Capability.UsageRead, Capability.EventsRead,
    ];

    private static readonly string[] MemberCapabilities = [.. ViewerCapabilities, Capability.UsageWrite];

    private static readonly string[] AdminCapabilities =
    [
        .. MemberCapabilities, Capability.OrgWrite, Capability.MembersManage, Capability.InvitationsManage,
        Capability.ApiKeysManage, Capability.BillingManage, Capability.AuditRead, Capability.WebhooksManage,
    ];

    private static readonly string[] OwnerCapabilities = [.. AdminCapabilities, Capability.OrgDelete, Capability.OrgTransfer];

    private static readonly Dictionary<Role, IReadOnlySet<string>> ByRole = new()
    {
        [Role.Owner] = new HashSet<string>(OwnerCapabilities, StringComparer.Ordinal),
        [Role.Admin] = new HashSet<string>(AdminCapabilities, StringComparer.Ordinal),
        [Role.Member] = new HashSet<string>(MemberCapabilities, StringComparer.Ordinal),
        [Role.Viewer] = new HashSet<string>(ViewerCapabilities, StringComparer.Ordinal),
    };

    public static IReadOnlySet<string> CapabilitiesOf(Role role) => ByRole[role];

    /// <summary>True when <paramref name="role"/> is at least as powerful as <paramref name="other"/>.</summary>
    public static bool IsAtLeast(this Role role, Role other) => role <= other;

    public static string ToWire(this Role role) => role.ToString().ToLowerInvariant();

    public static bool TryParse(string? value, out Role role)
    {
        role = default;
        return value is "owner" or "admin" or "member" or "viewer" && Enum.TryParse(value, ignoreCase: true, out role);
    }
}

namespace RaptorFlow.Functions.Platform.Access;

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
        Capability.ApiKeysManage, Capability.BillingManage, Capability.AuditRead, Capability.WebhooksManage, Capability.OrgExport,
    ];

    private static readonly string[] OwnerCapabilities = [.. AdminCapabilities, Capability.OrgDelete, Capability.OrgTransfer, Capability.PaymentsRefund];

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

namespace RaptorFlow.Functions.Organizations;

/// <summary>
/// The <c>Orgs</c> table holds one partition per org (partition key = org id): the org row, its
/// member rows and its invitation rows, so a change that spans them (ownership moves, an accepted
/// invitation) is one entity-group transaction.
/// </summary>
public static class OrgTable
{
    public const string Name = "Orgs";
    public const string OrgRowKey = "org";
    public const string MemberPrefix = "member|";
    public const string InvitationPrefix = "inv|";
    public const string InvitationEmailPrefix = "invemail|";

    /// <summary>The first row key after every key starting with <paramref name="prefix"/> ('|' + 1 = '}').</summary>
    public static string PrefixEnd(string prefix) => prefix[..^1] + "}";

    public static string MemberRowKey(string userId) => MemberPrefix + userId;
}

using System.Security.Claims;

namespace RaptorFlow.Functions.Platform.Access;

/// <summary>Claim types of a user's token, and the kinds of caller as audit and idempotency name them.</summary>
public static class CallerClaims
{
    public const string Kind = "rf:caller_kind";
    public const string ObjectId = "oid";
    public const string TenantId = "tid";
    public const string Upn = "upn";
    public const string UniqueName = "unique_name";

    public const string UserKind = "user";
    public const string ApiKeyKind = "api_key";

    // Microsoft.Identity.Web maps oid/tid to these long names unless inbound mapping is off.
    internal const string LongObjectId = "http://schemas.microsoft.com/identity/claims/objectidentifier";
    internal const string LongTenantId = "http://schemas.microsoft.com/identity/claims/tenantid";
}

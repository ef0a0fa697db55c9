using System.Security.Claims;
using System.Text;

namespace RaptorFlow.Functions.Platform.Access;

/// <summary>
/// Who is calling: a signed-in user (id = the token's <c>oid</c>) or an API key (id = key id, bound to
/// <see cref="OrgId"/> and carrying <see cref="KeyCapabilities"/>).
/// </summary>
public sealed record Caller(
    CallerKind Kind,
    string Id,
    string? OrgId,
    string? Email,
    string? Name,
    string? TenantId,
    IReadOnlySet<string> KeyCapabilities)
{
    public bool IsUser => Kind == CallerKind.User;

    /// <summary>"user:{id}" or "api_key:{id}": how audit events and idempotency scopes name the caller.</summary>
    public string Reference => $"{(IsUser ? CallerClaims.UserKind : CallerClaims.ApiKeyKind)}:{Id}";

    public static Caller? From(ClaimsPrincipal principal)
    {
        if (principal.Identity is CallerIdentity { IsAuthenticated: true } known)
        {
            return known.Caller;
        }

        if (principal.Identity?.IsAuthenticated != true || principal.FindFirst(CallerClaims.Kind)?.Value != CallerClaims.UserKind)
        {
            return null;
        }

        var oid = principal.FindFirst(CallerClaims.ObjectId)?.Value ?? principal.FindFirst(CallerClaims.LongObjectId)?.Value;
        if (string.IsNullOrEmpty(oid))
        {
            return null;
        }

        var email = EmailClaims.Select(type => NormalizeEmail(principal.FindFirst(type)?.Value)).FirstOrDefault(e => e is not null);
        var name = principal.FindFirst("name")?.Value ?? principal.FindFirst(ClaimTypes.Name)?.Value;
        var tid = principal.FindFirst(CallerClaims.TenantId)?.Value ?? principal.FindFirst(CallerClaims.LongTenantId)?.Value;
        return new Caller(CallerKind.User, oid, null, email, name, tid, new HashSet<string>());
    }

    // Entra v2 tokens carry email (optional claim); v1 tokens carry upn or unique_name instead. The long
    // names are what Microsoft.Identity.Web maps them to. The first that holds an address wins.
    private static readonly string[] EmailClaims =
    [
        "email", ClaimTypes.Email, CallerClaims.Upn, ClaimTypes.Upn, CallerClaims.UniqueName, ClaimTypes.Name, "preferred_username",
    ];

    /// <summary>
    /// Only an address that looks like one counts (<c>preferred_username</c> is not always an email); it
    /// is trimmed, Unicode-normalised (NFC) and lower-cased, so one address has one spelling.
    /// </summary>
    public static string? NormalizeEmail(string? email)
    {
        var trimmed = email?.Trim();
        try
        {
            trimmed = trimmed?.Normalize(NormalizationForm.FormC);
        }
        catch (ArgumentException)
        {
            // A lone surrogate: not an address.
            return null;
        }

        if (string.IsNullOrEmpty(trimmed) || trimmed.Length > 254)
        {
            return null;
        }

        var at = trimmed.IndexOf('@', StringComparison.Ordinal);
        // Control characters (NUL, DEL, …) are never part of an address, and would reach mail headers and logs.
        return at > 0 && at == trimmed.LastIndexOf('@') && at < trimmed.Length - 1 && !trimmed.Any(c => char.IsWhiteSpace(c) || char.IsControl(c))
            ? trimmed.ToLowerInvariant()
            : null;
    }
}

using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace RaptorFlow.Functions.Platform.Access;

/// <summary>
/// The Entra ID scheme's issuer check, per sign-in audience. Like Microsoft.Identity.Web's
/// <c>AadIssuerValidator</c>, the expected <c>iss</c> is a template filled with the token's own
/// <c>tid</c> and compared exactly; unlike it, the template is fixed by configuration rather than
/// fetched (so a workforce token is never accepted in External ID mode or the reverse), only v2.0
/// tokens pass, and the tenant itself is checked: the configured one, or the allow-list.
/// </summary>
internal sealed class EntraIssuers
{
    public const string AzureAdSection = "AzureAd";
    public const string Organizations = "organizations";
    public const string ExternalIdHostSuffix = ".ciamlogin.com";

    private readonly SignInAudience audience;
    private readonly string instance;
    private readonly string tenantId;
    private readonly HashSet<string> allowedTenants;

    public EntraIssuers(AuthSettings auth, IConfiguration azureAd)
    {
        audience = auth.SignInAudience;
        instance = NormalizedInstance(azureAd["Instance"]);
        tenantId = azureAd["TenantId"]?.Trim() ?? "";
        allowedTenants = new HashSet<string>(auth.AdmittedTenants(), StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>The authority host, with one trailing slash (the public cloud when unset).</summary>
    public static string NormalizedInstance(string? instance) =>
        (string.IsNullOrWhiteSpace(instance) ? "https://login.microsoftonline.com" : instance.Trim()).TrimEnd('/') + "/";

    /// <summary>A <see cref="TokenValidationParameters.IssuerValidator"/>: the issuer, or <see cref="SecurityTokenInvalidIssuerException"/>.</summary>
    public string Validate(string issuer, SecurityToken token, TokenValidationParameters parameters)
    {
        var tid = token is JsonWebToken jwt && jwt.TryGetPayloadValue(CallerClaims.TenantId, out string? value) ? value : null;
        if (string.IsNullOrWhiteSpace(tid))
        {
            throw Invalid("The token carries no tid.", issuer);
        }

        var tenantAdmitted = audience switch
        {
            SignInAudience.MultiTenant => allowedTenants.Count == 0 || allowedTenants.Contains(tid),
            _ => string.Equals(tid, tenantId, StringComparison.OrdinalIgnoreCase),
        };
        if (!tenantAdmitted)
        {
            throw Invalid("The token's tenant is not admitted.", issuer);
        }

        var expected = audience == SignInAudience.ExternalId
            ? $"https://{tid}{ExternalIdHostSuffix}/{tid}/v2.0"
            : $"{instance}{tid}/v2.0";
        return string.Equals(issuer, expected, StringComparison.Ordinal)
            ? issuer
            : throw Invalid("The token's issuer does not name its own tenant.", issuer);
    }

    private static SecurityTokenInvalidIssuerException Invalid(string message, string issuer) => new(message) { InvalidIssuer = issuer };
}

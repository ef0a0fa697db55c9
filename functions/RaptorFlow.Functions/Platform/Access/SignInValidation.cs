using Microsoft.Extensions.Options;

namespace RaptorFlow.Functions.Platform.Access;

/// <summary>
/// The sign-in audience must agree with the <c>AzureAd</c> authority it implies: a tenant id for
/// single tenant, <c>organizations</c> for multi-tenant (not <c>common</c>: personal Microsoft
/// accounts have no organization to belong to), and a <c>ciamlogin.com</c> instance with its
/// tenant id for External ID. The allow-list only narrows multi-tenant sign-in.
/// </summary>
internal sealed class SignInValidation(IConfiguration configuration) : IValidateOptions<AuthSettings>
{
    public ValidateOptionsResult Validate(string? name, AuthSettings options)
    {
        var failures = new List<string>();
        var section = AuthSettings.SectionName;
        var allowedTenants = options.AdmittedTenants();
        if (allowedTenants.Length > 0 && options.SignInAudience != SignInAudience.MultiTenant)
        {
            failures.Add($"{section}:AllowedTenants applies only when {section}:SignInAudience is {SignInAudience.MultiTenant}.");
        }

        if (allowedTenants.Any(t => !Guid.TryParse(t, out _)))
        {
            failures.Add($"{section}:AllowedTenants must hold tenant ids (GUIDs).");
        }

        var azureAd = configuration.GetSection(EntraIssuers.AzureAdSection);
        if (!string.IsNullOrWhiteSpace(azureAd["ClientId"]))
        {
            var tenantId = azureAd["TenantId"]?.Trim() ?? "";
            var instance = EntraIssuers.NormalizedInstance(azureAd["Instance"]);
            var externalIdInstance = Uri.TryCreate(instance, UriKind.Absolute, out var uri)
                && uri.Scheme == Uri.UriSchemeHttps
                && uri.Host.EndsWith(EntraIssuers.ExternalIdHostSuffix, StringComparison.OrdinalIgnoreCase)
                && uri.AbsolutePath == "/";
            var failure = options.SignInAudience switch
            {
                SignInAudience.SingleTenant when !Guid.TryParse(tenantId, out _) || externalIdInstance =>
                    "SingleTenant needs AzureAd:TenantId set to the workforce tenant's id (a GUID) and a login.microsoftonline.com instance.",
                SignInAudience.MultiTenant when !string.Equals(tenantId, EntraIssuers.Organizations, StringComparison.OrdinalIgnoreCase) || externalIdInstance =>
                    "MultiTenant needs AzureAd:TenantId set to 'organizations' and a login.microsoftonline.com instance.",
                SignInAudience.ExternalId when !Guid.TryParse(tenantId, out _) || !externalIdInstance =>
                    "ExternalId needs AzureAd:Instance set to https://<tenant>.ciamlogin.com/ and AzureAd:TenantId to the External ID tenant's id (a GUID).",
                _ => null,
            };
            if (failure is not null)
            {
                failures.Add($"{section}:SignInAudience {failure}");
            }
        }

        return failures.Count > 0 ? ValidateOptionsResult.Fail(failures) : ValidateOptionsResult.Success;
    }
}

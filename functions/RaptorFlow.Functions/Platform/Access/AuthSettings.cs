using RaptorFlow.Functions.Platform.Settings;

namespace RaptorFlow.Functions.Platform.Access;

/// <summary>The <c>Auth</c> section: who may sign in, the development issuer and the platform administrators.</summary>
public sealed class AuthSettings : ISettingsSection
{
    public static string SectionName => "Auth";

    /// <summary>Whose users the Entra ID scheme admits; see <see cref="Access.SignInAudience"/>.</summary>
    public SignInAudience SignInAudience { get; set; } = SignInAudience.SingleTenant;

    /// <summary>With <see cref="SignInAudience.MultiTenant"/>, the only tenant ids (<c>tid</c>) admitted; empty admits every organization.</summary>
    public string[] AllowedTenants { get; set; } = [];

    /// <summary>The allow-list without blank entries (a sample or template may leave one empty).</summary>
    internal string[] AdmittedTenants() => [.. AllowedTenants.Where(t => !string.IsNullOrWhiteSpace(t)).Select(t => t.Trim())];

    public DevIssuerSettings DevIssuer { get; set; } = new();

    /// <summary>User ids (token <c>oid</c>) granted <c>platform:admin</c>.</summary>
    public string[] PlatformAdmins { get; set; } = [];
}

/// <summary>Which Entra users the API admits (the API app registration's sign-in audience).</summary>
public enum SignInAudience
{
    /// <summary>Users of the one workforce tenant in <c>AzureAd:TenantId</c>.</summary>
    SingleTenant,

    /// <summary>Users of any (or any allowed) organization's Entra tenant: <c>AzureAd:TenantId</c> is <c>organizations</c>.</summary>
    MultiTenant,

    /// <summary>Consumers and business guests of one Entra External ID tenant: <c>AzureAd:Instance</c> is its <c>ciamlogin.com</c> host.</summary>
    ExternalId,
}

using RaptorFlow.Functions.Platform.Settings;

namespace RaptorFlow.Functions.Platform.Access;

/// <summary>The <c>Auth</c> section: the development issuer and the platform administrators.</summary>
public sealed class AuthSettings : ISettingsSection
{
    public static string SectionName => "Auth";

    public DevIssuerSettings DevIssuer { get; set; } = new();

    /// <summary>User ids (token <c>oid</c>) granted <c>platform:admin</c>.</summary>
    public string[] PlatformAdmins { get; set; } = [];
}

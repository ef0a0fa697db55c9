using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
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

public sealed class DevIssuerSettings
{
    public bool Enabled { get; set; }

    [Required, MinLength(1)]
    public string Issuer { get; set; } = "https://raptorflow.dev-issuer.local";

    [Required, MinLength(1)]
    public string Audience { get; set; } = "raptorflow-api";

    /// <summary>Base64 HMAC key of at least 32 bytes; when absent a fresh key is made per process.</summary>
    public string? SigningKey { get; set; }

    [Range(1, 24 * 60)]
    public int TokenLifetimeMinutes { get; set; } = 60;
}

/// <summary>The development issuer's rules, by the generated validator, failures named by their full key.</summary>
internal sealed class DevIssuerValidation(IGeneratedSettings generated) : IValidateOptions<AuthSettings>
{
    public ValidateOptionsResult Validate(string? name, AuthSettings options)
    {
        var result = generated.Validate(name, options.DevIssuer);
        return result.Failed
            ? ValidateOptionsResult.Fail(result.Failures.Select(f => $"{AuthSettings.SectionName}:DevIssuer:{f}"))
            : ValidateOptionsResult.Success;
    }
}

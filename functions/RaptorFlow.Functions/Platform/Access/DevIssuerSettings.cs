using System.ComponentModel.DataAnnotations;

namespace RaptorFlow.Functions.Platform.Access;

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

using RaptorFlow.Functions.Platform.Settings;

namespace RaptorFlow.Functions.Platform.Http;

/// <summary>The SPA origins allowed to call the API from a browser; none by default.</summary>
public sealed class CorsSettings : ISettingsSection
{
    public static string SectionName => "Cors";

    public string[] AllowedOrigins { get; set; } = [];

    public static readonly string[] ExposedHeaders =
    [
        "ETag", "Location", RequestCorrelation.RequestIdHeader, "Idempotency-Replayed", "Retry-After",
        "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset",
    ];
}

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

public static class CorsRegistration
{
    public static IServiceCollection AddSpaCors(this IServiceCollection services, IConfiguration configuration)
    {
        var origins = configuration.GetSection(CorsSettings.SectionName).Get<CorsSettings>()?.AllowedOrigins ?? [];
        services.AddCors(options => options.AddDefaultPolicy(policy =>
        {
            policy.WithOrigins(origins.Select(o => o.TrimEnd('/')).ToArray())
                .AllowAnyHeader()
                .WithMethods("GET", "POST", "PATCH", "PUT", "DELETE")
                .WithExposedHeaders(CorsSettings.ExposedHeaders)
                .SetPreflightMaxAge(TimeSpan.FromHours(1));
        }));
        return services;
    }
}

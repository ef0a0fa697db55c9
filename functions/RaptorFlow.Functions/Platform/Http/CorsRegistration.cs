namespace RaptorFlow.Functions.Platform.Http;

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

namespace RaptorFlow.Functions.Stats;

public static class StatsRegistration
{
    /// <summary>An org's stats, read from the other features' stores.</summary>
    public static WebApplicationBuilder AddStats(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<OrgStatsReader>();
        builder.Services.AddSingleton<OrgCounters>();
        return builder;
    }

    public static WebApplication MapStats(this WebApplication app)
    {
        app.MapStatsRoutes();
        return app;
    }
}

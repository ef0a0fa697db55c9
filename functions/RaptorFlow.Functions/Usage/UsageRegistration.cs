using RaptorFlow.Functions.Hosting;
using RaptorFlow.Functions.Platform.Settings;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Usage;

public static class UsageRegistration
{
    public static WebApplicationBuilder AddUsage(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddStorageTable(UsageEventIdRow.TableName);
        services.AddStorageTable(UsageEventRow.TableName);
        services.AddStorageTable(PendingHourRow.TableName);
        services.AddStorageTable(UsageTotalRow.TableName);
        services.AddSettings<UsageMeterSettings>();
        services.AddSingleton<UsageStore>();
        services.AddSingleton<UsageRollup>();
        services.AddSingleton<UsageTotalsReader>();
        services.AddSingleton<IUsageTotals>(sp => sp.GetRequiredService<UsageTotalsReader>());
        services.AddSingleton<BufferedUsageMeter>();
        services.AddSingleton<IUsageMeter>(sp => sp.GetRequiredService<BufferedUsageMeter>());
        services.AddHostedService<UsageMeterFlusher>();
        services.AddTimerFunction<RollupUsage>(RollupUsage.FunctionName, RollupUsage.Schedule);

        // Configurable so each test app can use its own queue; in Azure it is always rollup-org-usage.
        var rollupQueue = new RollupOrgUsageQueue(builder.Configuration["Usage:RollupQueue"] ?? RollupOrgUsageQueue.Default);
        services.AddSingleton(rollupQueue);
        services.AddQueueFunction<RollupOrgUsage>(RollupOrgUsage.FunctionName, rollupQueue.Name);
        return builder;
    }

    public static WebApplication MapUsage(this WebApplication app)
    {
        app.MapUsageRoutes();
        return app;
    }
}

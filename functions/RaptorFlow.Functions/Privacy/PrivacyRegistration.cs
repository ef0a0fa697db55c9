using RaptorFlow.Functions.Hosting;
using RaptorFlow.Functions.Platform.Settings;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Privacy;

/// <summary>The user's and the org's rights over their data: exports (and, with them, erasure and retention).</summary>
public static class PrivacyRegistration
{
    public static WebApplicationBuilder AddPrivacy(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddStorageTable(ExportKeys.TableName);
        services.AddStorageContainer(ExportBook.Container);
        services.AddSingleton<ExportBook>();
        services.AddSingleton<ExportDownloads>();
        services.AddSingleton<UserErasure>();
        services.AddStorageTable(ErasureJobRow.TableName);
        services.AddSingleton<ErasureBook>();
        services.AddSettings<ErasureSettings>();
        services.AddSettings<RetentionSettings>();
        services.AddStorageTable(OrgPurgeSchedule.TableName);
        services.AddSingleton<OrgPurgeSchedule>();
        services.AddSingleton<PreGraceDeletions>();
        services.AddSingleton<OrgDataCatalog>();

        // Configurable so each test app can use its own queues; in Azure they are always write-export and erase-user.
        var exportQueue = new ExportQueue(builder.Configuration["Privacy:ExportQueue"] ?? ExportQueue.Default);
        services.AddSingleton(exportQueue);
        services.AddQueueFunction<WriteExport>(WriteExport.FunctionName, exportQueue.Name);
        var erasureQueue = new ErasureQueue(builder.Configuration["Privacy:ErasureQueue"] ?? ErasureQueue.Default);
        services.AddSingleton(erasureQueue);
        services.AddQueueFunction<EraseUser>(EraseUser.FunctionName, erasureQueue.Name);
        services.AddTimerFunction<ExpireExports>(ExpireExports.FunctionName, ExpireExports.Schedule);

        // Configurable so each test app can use its own queues; in Azure they are always purge-org and apply-org-retention.
        var purgeQueue = new PurgeOrgQueue(builder.Configuration["Privacy:PurgeQueue"] ?? PurgeOrgQueue.Default);
        services.AddSingleton(purgeQueue);
        services.AddTimerFunction<PurgeDeletedOrgs>(PurgeDeletedOrgs.FunctionName, PurgeDeletedOrgs.Schedule);
        services.AddQueueFunction<PurgeOrg>(PurgeOrg.FunctionName, purgeQueue.Name);
        var retentionQueue = new OrgRetentionQueue(builder.Configuration["Privacy:RetentionQueue"] ?? OrgRetentionQueue.Default);
        services.AddSingleton(retentionQueue);
        services.AddTimerFunction<ApplyRetention>(ApplyRetention.FunctionName, ApplyRetention.Schedule);
        services.AddQueueFunction<ApplyOrgRetention>(ApplyOrgRetention.FunctionName, retentionQueue.Name);
        return builder;
    }

    public static WebApplication MapPrivacy(this WebApplication app)
    {
        app.MapExportRoutes();
        app.MapErasureRoutes();
        return app;
    }
}

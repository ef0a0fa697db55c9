using RaptorFlow.Functions.Hosting;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Ledger;

public static class LedgerRegistration
{
    public static WebApplicationBuilder AddLedger(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddStorageTable(LedgerKeys.TableName);
        services.AddSingleton<PostingEngine>();
        services.AddSingleton<LedgerReader>();

        services.AddTimerFunction<CheckLedgers>(CheckLedgers.FunctionName, CheckLedgers.Schedule);

        // Configurable so each test app can use its own queue; in Azure it is always check-ledger.
        var checkQueue = new CheckLedgerQueue(builder.Configuration["Ledger:CheckQueue"] ?? CheckLedgerQueue.Default);
        services.AddSingleton(checkQueue);
        services.AddQueueFunction<CheckLedger>(CheckLedger.FunctionName, checkQueue.Name);
        return builder;
    }
}

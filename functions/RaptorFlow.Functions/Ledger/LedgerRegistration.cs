using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Ledger;

public static class LedgerRegistration
{
    public static WebApplicationBuilder AddLedger(this WebApplicationBuilder builder)
    {
        builder.Services.AddStorageTable(LedgerKeys.TableName);
        builder.Services.AddSingleton<PostingEngine>();
        builder.Services.AddSingleton<LedgerReader>();
        return builder;
    }
}

using Microsoft.Extensions.DependencyInjection.Extensions;
using RaptorFlow.Functions.ApiKeys;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Audit;

public static class AuditRegistration
{
    public static WebApplicationBuilder AddAudit(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddStorageTable(AuditLog.TableName);
        services.AddSingleton<AuditLog>();
        // The same address API-key rules judge, so audit shows the client, not the Functions host.
        services.TryAddSingleton<ClientAddressResolver>();
        return builder;
    }
}

using Microsoft.Extensions.DependencyInjection.Extensions;
using RaptorFlow.Functions.ApiKeys;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Audit;

public static class AuditRegistration
{
    public static IServiceCollection AddAudit(this IServiceCollection services)
    {
        services.AddStorageTable(AuditLog.TableName);
        services.AddSingleton<AuditLog>();
        // The same address API-key rules judge, so audit shows the client, not the Functions host.
        services.TryAddSingleton<ClientAddressResolver>();
        return services;
    }
}

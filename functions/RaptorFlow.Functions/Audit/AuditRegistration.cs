using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Audit;

public static class AuditRegistration
{
    public static IServiceCollection AddAudit(this IServiceCollection services)
    {
        services.AddStorageTable(AuditLog.TableName);
        services.AddSingleton<AuditLog>();
        return services;
    }
}

namespace RaptorFlow.Functions.Platform.Storage;

public static class StorageRegistration
{
    public static IServiceCollection AddStorageAccount(this IServiceCollection services)
    {
        services.AddSingleton<ProvisioningGate>();
        services.AddSingleton<StorageAccount>();
        services.AddSingleton<StorageProvisioner>();
        services.AddHostedService(sp => sp.GetRequiredService<StorageProvisioner>());
        return services;
    }

    public static IServiceCollection AddStorageTable(this IServiceCollection services, string name) =>
        services.AddSingleton(new StorageResource(StorageResourceKind.Table, name));

    /// <summary>Declares a queue and its <c>-poison</c> companion.</summary>
    public static IServiceCollection AddStorageQueue(this IServiceCollection services, string name)
    {
        services.AddSingleton(new StorageResource(StorageResourceKind.Queue, name));
        return services.AddSingleton(new StorageResource(StorageResourceKind.Queue, name + "-poison"));
    }

    public static IServiceCollection AddStorageContainer(this IServiceCollection services, string name) =>
        services.AddSingleton(new StorageResource(StorageResourceKind.BlobContainer, name));
}

using System.Collections.Concurrent;
using Azure.Core;
using Azure.Data.Tables;
using Azure.Identity;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;

namespace RaptorFlow.Functions.Platform.Storage;

/// <summary>
/// The app's one storage account, resolved from <c>AzureWebJobsStorage</c> the way the Functions
/// host resolves it: a connection string, or identity-based settings
/// (<c>__accountName</c> or <c>__tableServiceUri</c>/<c>__queueServiceUri</c>/<c>__blobServiceUri</c>,
/// with <c>__credential</c> = <c>managedidentity</c> and <c>__clientId</c>).
/// </summary>
public sealed class StorageAccount
{
    public const string SettingName = "AzureWebJobsStorage";

    /// <summary>Queue messages are base64, the Functions queue extension's default; host.json says the same.</summary>
    public const QueueMessageEncoding MessageEncoding = QueueMessageEncoding.Base64;

    private readonly ConcurrentDictionary<string, TableClient> _tables = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, QueueClient> _queues = new(StringComparer.Ordinal);

    public StorageAccount(IConfiguration configuration)
    {
        var connectionString = configuration[SettingName];
        var section = configuration.GetSection(SettingName);
        var tableOptions = new TableClientOptions();
        var queueOptions = new QueueClientOptions { MessageEncoding = MessageEncoding };
        var blobOptions = new BlobClientOptions();

        if (!string.IsNullOrWhiteSpace(connectionString))
        {
            Tables = new TableServiceClient(connectionString, tableOptions);
            Queues = new QueueServiceClient(connectionString, queueOptions);
            Blobs = new BlobServiceClient(connectionString, blobOptions);
            return;
        }

        var accountName = section["accountName"];
        var tableUri = UriFrom(section["tableServiceUri"]) ?? UriFor(accountName, "table");
        var queueUri = UriFrom(section["queueServiceUri"]) ?? UriFor(accountName, "queue");
        var blobUri = UriFrom(section["blobServiceUri"]) ?? UriFor(accountName, "blob");
        if (tableUri is null || queueUri is null || blobUri is null)
        {
            throw new InvalidOperationException(
                $"Storage is not configured: set '{SettingName}' to a connection string (UseDevelopmentStorage=true for Azurite), " +
                $"or '{SettingName}__accountName' (or '{SettingName}__tableServiceUri', '__queueServiceUri' and '__blobServiceUri') for an identity-based connection.");
        }

        var credential = CredentialFrom(section);
        Tables = new TableServiceClient(tableUri, credential, tableOptions);
        Queues = new QueueServiceClient(queueUri, credential, queueOptions);
        Blobs = new BlobServiceClient(blobUri, credential, blobOptions);
    }

    public TableServiceClient Tables { get; }
    public QueueServiceClient Queues { get; }
    public BlobServiceClient Blobs { get; }

    public TableClient Table(string name) => _tables.GetOrAdd(name, n => Tables.GetTableClient(n));

    public QueueClient Queue(string name) => _queues.GetOrAdd(name, n => Queues.GetQueueClient(n));

    public BlobContainerClient Container(string name) => Blobs.GetBlobContainerClient(name);

    private static TokenCredential CredentialFrom(IConfigurationSection section)
    {
        var clientId = section["clientId"];
        if (string.Equals(section["credential"], "managedidentity", StringComparison.OrdinalIgnoreCase))
        {
            return string.IsNullOrEmpty(clientId)
                ? new ManagedIdentityCredential(ManagedIdentityId.SystemAssigned)
                : new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(clientId));
        }

        return new DefaultAzureCredential(new DefaultAzureCredentialOptions { ManagedIdentityClientId = clientId });
    }

    private static Uri? UriFrom(string? value) => string.IsNullOrWhiteSpace(value) ? null : new Uri(value);

    private static Uri? UriFor(string? accountName, string service) =>
        string.IsNullOrWhiteSpace(accountName) ? null : new Uri($"https://{accountName}.{service}.core.windows.net");
}

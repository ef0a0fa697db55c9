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

    private readonly Lazy<TableServiceClient> _tableService;
    private readonly Lazy<QueueServiceClient> _queueService;
    private readonly Lazy<BlobServiceClient> _blobService;

    /// <summary>
    /// Resolves the endpoints now, so a missing setting stops start-up, but builds the SDK clients on
    /// first use: their pipelines are not needed to answer the first request.
    /// </summary>
    public StorageAccount(IConfiguration configuration, ProvisioningGate? gate = null)
    {
        var connectionString = configuration[SettingName];
        var section = configuration.GetSection(SettingName);
        var queueOptions = Gated(new QueueClientOptions { MessageEncoding = MessageEncoding }, gate);
        var tableOptions = Gated(new TableClientOptions(), gate);
        var blobOptions = Gated(new BlobClientOptions(), gate);

        if (!string.IsNullOrWhiteSpace(connectionString))
        {
            _tableService = new(() => new TableServiceClient(connectionString, tableOptions));
            _queueService = new(() => new QueueServiceClient(connectionString, queueOptions));
            _blobService = new(() => new BlobServiceClient(connectionString, blobOptions));
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

        var credential = new Lazy<TokenCredential>(() => CredentialFrom(section));
        _tableService = new(() => new TableServiceClient(tableUri, credential.Value, tableOptions));
        _queueService = new(() => new QueueServiceClient(queueUri, credential.Value, queueOptions));
        _blobService = new(() => new BlobServiceClient(blobUri, credential.Value, blobOptions));
    }

    public TableServiceClient Tables => _tableService.Value;
    public QueueServiceClient Queues => _queueService.Value;
    public BlobServiceClient Blobs => _blobService.Value;

    public TableClient Table(string name) => _tables.GetOrAdd(name, n => Tables.GetTableClient(n));

    public QueueClient Queue(string name) => _queues.GetOrAdd(name, n => Queues.GetQueueClient(n));

    public BlobContainerClient Container(string name) => Blobs.GetBlobContainerClient(name);

    private static T Gated<T>(T options, ProvisioningGate? gate)
        where T : ClientOptions
    {
        if (gate is not null)
        {
            options.AddPolicy(gate.Policy, HttpPipelinePosition.PerCall);
        }

        return options;
    }

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

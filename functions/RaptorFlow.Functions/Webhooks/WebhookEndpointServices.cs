using Microsoft.Extensions.Options;
using RaptorFlow.Functions.Audit;
using RaptorFlow.Functions.Platform.Ids;

namespace RaptorFlow.Functions.Webhooks;

/// <summary>What the endpoint handlers that create and change endpoints need, bound as one parameter.</summary>
public sealed record WebhookEndpointServices(
    WebhookEndpointBook Book,
    WebhookAddresses Addresses,
    WebhookSecrets Secrets,
    AuditLog Audit,
    IdGenerator Ids,
    TimeProvider Time,
    IOptions<WebhookSettings> Settings);

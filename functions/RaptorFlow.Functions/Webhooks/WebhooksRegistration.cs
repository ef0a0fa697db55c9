using Microsoft.Extensions.Options;
using RaptorFlow.Functions.Events;
using RaptorFlow.Functions.Hosting;
using RaptorFlow.Functions.Platform.Settings;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Webhooks;

public static class WebhooksRegistration
{
    /// <summary>Outbound webhooks: endpoints, the fan-out subscriber, the delivery and recovery queue functions, and the guarded HTTP client.</summary>
    public static WebApplicationBuilder AddWebhooks(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSettings<WebhookSettings>();
        services.AddSingleton<IValidateOptions<WebhookSettings>, WebhookSettingsValidation>();
        services.AddStorageTable(WebhookEndpointRow.TableName);
        services.AddStorageTable(WebhookMessageRow.TableName);
        services.AddSingleton<WebhookAddresses>();
        services.AddSingleton<WebhookSecrets>();
        services.AddSingleton<WebhookSender>();
        services.AddSingleton<WebhookRateLimits>();
        services.AddSingleton<WebhookDeliveries>();
        services.AddSingleton<WebhookEndpointBook>();
        services.AddSingleton<IDomainEventSubscriber, WebhookFanOut>();

        var queues = new WebhookQueues(
            builder.Configuration[$"{WebhookSettings.SectionName}:DeliveryQueue"] ?? WebhookQueues.DefaultDeliveries,
            builder.Configuration[$"{WebhookSettings.SectionName}:RecoveryQueue"] ?? WebhookQueues.DefaultRecoveries);
        services.AddSingleton(queues);
        services.AddQueueFunction<DeliverWebhook>(DeliverWebhook.FunctionName, queues.Deliveries);
        services.AddQueueFunction<RecoverWebhookDeliveries>(RecoverWebhookDeliveries.FunctionName, queues.Recoveries);

        // Customer URLs: the SSRF guard picks and pins the address, nothing is followed, nothing of ours is sent.
        services.AddHttpClient(WebhookSender.ClientName, http => http.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(provider => new SocketsHttpHandler
            {
                AllowAutoRedirect = false,
                UseCookies = false,
                UseProxy = false,
                Credentials = null,
                PreAuthenticate = false,
                ConnectTimeout = provider.GetRequiredService<IOptions<WebhookSettings>>().Value.AttemptTimeout,
                PooledConnectionLifetime = TimeSpan.FromMinutes(1),
                // Our trace ids are ours: no traceparent to customers.
                ActivityHeadersPropagator = System.Diagnostics.DistributedContextPropagator.CreateNoOutputPropagator(),
                ConnectCallback = provider.GetRequiredService<WebhookAddresses>().ConnectAsync,
            });
        return builder;
    }

    public static WebApplication MapWebhooks(this WebApplication app)
    {
        app.MapWebhookEndpointRoutes();
        return app;
    }
}

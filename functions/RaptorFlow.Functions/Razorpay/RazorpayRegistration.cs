using Microsoft.Extensions.DependencyInjection.Extensions;
using RaptorFlow.Functions.Hosting;
using RaptorFlow.Functions.Platform.Secrets;
using RaptorFlow.Functions.Platform.Settings;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Razorpay;

public static class RazorpayRegistration
{
    /// <summary>Razorpay webhooks, their processing into the ledger, and the REST client.</summary>
    public static WebApplicationBuilder AddRazorpay(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSettings<RazorpaySettings>();
        services.AddSecrets(builder.Configuration);
        services.AddSecret(RazorpaySecrets.KeyId, "Razorpay:KeyId");
        services.AddSecret(RazorpaySecrets.KeySecret, "Razorpay:KeySecret");
        services.AddSecret(RazorpaySecrets.WebhookSecret, "Razorpay:WebhookSecret", keepPrevious: true);

        var inboxTable = new RazorpayInboxTable(builder.Configuration[$"{RazorpaySettings.SectionName}:InboxTable"] ?? InboxKeys.TableName);
        services.AddSingleton(inboxTable);
        services.AddStorageTable(inboxTable.Name);
        services.AddStorageContainer(InboxKeys.Container);
        services.AddStorageTable(PaymentOwnerRow.TableName);
        services.AddSingleton<RazorpayInbox>();
        services.AddSingleton<PaymentOwners>();
        services.AddSingleton<WebhookSignature>();
        services.AddScoped<RazorpayEventProcessor>();
        services.TryAddSingleton<IInvoiceSettlement, NoOpenInvoices>();
        services.TryAddSingleton<IRefundCreditNotes, NoCreditNotes>();
        services.TryAddSingleton<ICheckoutOrders, NoCheckoutOrders>();
        services.TryAddSingleton<IKnownOrganizations, ActiveOrganizations>();

        // Configurable so each test app can use its own queue and inbox; in Azure they are always razorpay-events and RazorpayInbox.
        var queue = new RazorpayEventsQueue(builder.Configuration[$"{RazorpaySettings.SectionName}:EventsQueue"] ?? InboxKeys.Queue);
        services.AddSingleton(queue);
        services.AddQueueFunction<ProcessRazorpayEvent>(ProcessRazorpayEvent.FunctionName, queue.Name);
        services.AddTimerFunction<SweepWebhookInbox>(SweepWebhookInbox.FunctionName, SweepWebhookInbox.Schedule);

        services.AddRazorpayClient();
        return builder;
    }

    public static WebApplication MapRazorpay(this WebApplication app)
    {
        app.MapRazorpayWebhooks();
        app.MapWebhookOps();
        app.MapSuspenseOps();
        return app;
    }
}

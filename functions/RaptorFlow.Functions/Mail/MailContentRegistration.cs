using RaptorFlow.Functions.Events;
using RaptorFlow.Functions.Hosting;
using RaptorFlow.Functions.Platform.Settings;

namespace RaptorFlow.Functions.Mail;

/// <summary>What is mailed, to whom and when: templates, the event subscriber, the invitation mail, key expiry notices and the unsubscribe route.</summary>
public static class MailContentRegistration
{
    public static WebApplicationBuilder AddMailContent(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSettings<MailLinkSettings>();
        services.AddSingleton<UnsubscribeLinks>();
        services.AddSingleton<MailRecipients>();
        services.AddSingleton<Mailroom>();
        services.AddSingleton<InvitationMail>();
        services.AddSingleton<IDomainEventSubscriber, MailEvents>();

        // Configurable so each test app can use its own queue; in Azure it is always api-key-expiry.
        var expiryQueue = new KeyExpiryQueue(builder.Configuration["Mail:KeyExpiryQueue"] ?? KeyExpiryQueue.Default);
        services.AddSingleton(expiryQueue);
        services.AddTimerFunction<FindExpiringKeys>(FindExpiringKeys.FunctionName, FindExpiringKeys.Schedule);
        services.AddQueueFunction<NotifyKeyExpiry>(NotifyKeyExpiry.FunctionName, expiryQueue.Name);
        return builder;
    }

    public static WebApplication MapMailContent(this WebApplication app)
    {
        app.MapMailRoutes();
        return app;
    }
}

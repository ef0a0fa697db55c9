using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Mail;

/// <summary>Email: the outbox queue, what puts mail on it, and what sends it.</summary>
public static class MailRegistration
{
    public static WebApplicationBuilder AddMail(this WebApplicationBuilder builder)
    {
        var services = builder.Services;

        // Configurable so each test app can use its own queue; in Azure it is always mail-outbox.
        var queue = new MailQueue(builder.Configuration["Mail:Queue"] ?? MailQueue.Default);
        services.AddSingleton(queue);
        services.AddStorageQueue(queue.Name);
        services.AddSingleton<MailOutbox>();
        builder.AddMailContent();
        return builder;
    }

    public static WebApplication MapMail(this WebApplication app) => app.MapMailContent();
}

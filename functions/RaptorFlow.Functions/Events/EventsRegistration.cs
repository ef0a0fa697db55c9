using Microsoft.AspNetCore.OpenApi;
using RaptorFlow.Functions.Hosting;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Events;

public static class EventsRegistration
{
    /// <summary>The outbox stores stage events through, its dispatcher and sweeper, and the org's event feed.</summary>
    public static WebApplicationBuilder AddEvents(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        var pending = new PendingEventsTable(builder.Configuration["Events:OutboxTable"] ?? OutboxKeys.TableName);
        services.AddSingleton(pending);
        services.AddStorageTable(pending.Name);
        services.AddStorageTable(EventFeed.TableName);
        services.AddSingleton<EventOutbox>();
        services.AddSingleton<EventFeed>();

        // Configurable so each test app can use its own queue and table; in Azure they are always domain-events and EventOutbox.
        var queue = new DomainEventsQueue(builder.Configuration["Events:DispatchQueue"] ?? OutboxKeys.Queue);
        services.AddSingleton(queue);
        services.AddQueueFunction<DispatchDomainEvent>(DispatchDomainEvent.FunctionName, queue.Name);
        services.AddTimerFunction<SweepEventOutbox>(SweepEventOutbox.FunctionName, SweepEventOutbox.Schedule);

        services.Configure<OpenApiOptions>("v1", o => o.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Description = (document.Info.Description is { Length: > 0 } d ? d + "\n\n" : "") +
                $"Event types, with a description and the JSON Schema of each one's data: [{EventsApi.EventTypesPath}]({EventsApi.EventTypesPath}).";
            return Task.CompletedTask;
        }));
        return builder;
    }

    public static WebApplication MapEvents(this WebApplication app)
    {
        app.MapEventRoutes();
        return app;
    }
}

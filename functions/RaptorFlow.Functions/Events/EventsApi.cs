using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using RaptorFlow.Functions.Platform.Access;
using RaptorFlow.Functions.Platform.Http;
using RaptorFlow.Functions.Platform.Paging;

namespace RaptorFlow.Functions.Events;

public static class EventsApi
{
    public const string EventTypesPath = "/api/v1/webhook-event-types";

    public static IEndpointRouteBuilder MapEventRoutes(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/api/v1/orgs/{orgId}/events", ListAsync).WithTags("Events").RequireCapability(Capability.EventsRead)
            .WithName("ListEvents")
            .WithSummary("The org's events, newest first, kept 30 days: filter by type and by creation time (after, ISO 8601); cursor paging.");

        routes.MapGet(EventTypesPath, ListTypes).WithTags("Events")
            .IsPublic("The event catalogue describes the API, like the OpenAPI document.")
            .WithName("ListWebhookEventTypes")
            .WithSummary("Every event type webhooks and the event feed carry, with a description and the JSON Schema of its data.");

        return routes;
    }

    public static async Task<Results<Ok<CursorPage<DomainEvent>>, ProblemHttpResult>> ListAsync(
        string orgId, PageRequest page, HttpRequest request, EventFeed feed, CancellationToken cancellationToken)
    {
        var query = new QueryValues(request.Query);
        var type = query.Text("type", maxLength: 64);
        var after = query.Instant("after");
        if (type is not null && !EventCatalog.IsKnown(type))
        {
            query.Errors["type"] = [$"type must be one of the event types listed at {EventTypesPath}."];
        }

        if (!query.IsValid)
        {
            return query.Problem();
        }

        return TypedResults.Ok(await feed.ReadAsync(orgId, type, after, page, cancellationToken));
    }

    public static Ok<EventTypeCatalogResponse> ListTypes(IOptions<JsonOptions> json) =>
        TypedResults.Ok(EventCatalog.Describe(json.Value.SerializerOptions));
}

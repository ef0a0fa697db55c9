using Azure;
using Microsoft.AspNetCore.Http.HttpResults;
using RaptorFlow.Functions.Audit;
using RaptorFlow.Functions.Platform.Access;
using RaptorFlow.Functions.Platform.Paging;
using RaptorFlow.Functions.Platform.Problems;

namespace RaptorFlow.Functions.Razorpay;

/// <summary>Ops: see which webhook events failed, went poison or were ignored, and replay them.</summary>
public static class WebhookOpsApi
{
    public static IEndpointRouteBuilder MapWebhookOps(this IEndpointRouteBuilder routes)
    {
        var ops = routes.MapGroup("/api/v1/ops/webhook-events").WithTags("Ops").RequireCapability(Capability.PlatformAdmin);

        ops.MapGet("/", ListAsync)
            .WithName("ListWebhookEvents")
            .WithSummary("Lists Razorpay webhook events in one status (received, processed, ignored, failed, poison).");
        ops.MapGet("/{eventId}", GetAsync)
            .WithName("GetWebhookEvent")
            .WithSummary("One Razorpay webhook event and its processing status.");
        ops.MapPost("/{eventId}/replay", ReplayAsync)
            .WithName("ReplayWebhookEvent")
            .WithSummary("Puts a failed, poison or ignored event back on the queue; postings stay idempotent.");

        return routes;
    }

    public static async Task<Results<Ok<CursorPage<InboxEvent>>, ProblemHttpResult>> ListAsync(
        string? status, PageRequest page, RazorpayInbox inbox, CancellationToken cancellationToken)
    {
        if (!Enum.TryParse<InboxStatus>(status, ignoreCase: true, out var parsed) || !Enum.IsDefined(parsed) || int.TryParse(status, out _))
        {
            return ApiProblem.Validation(new Dictionary<string, string[]>
            {
                ["status"] = ["status must be one of received, processed, ignored, failed, poison."],
            });
        }

        return TypedResults.Ok(await inbox.ListAsync(parsed, page, cancellationToken));
    }

    public static async Task<Results<Ok<InboxEvent>, ProblemHttpResult>> GetAsync(string eventId, RazorpayInbox inbox, CancellationToken cancellationToken) =>
        await inbox.GetAsync(eventId, cancellationToken) is { } found
            ? TypedResults.Ok(found)
            : ApiProblem.NotFound("webhook_event.not_found", "No webhook event with this id.");

    public static async Task<Results<Accepted<InboxEvent>, ProblemHttpResult>> ReplayAsync(
        string eventId, HttpContext context, RazorpayInbox inbox, AuditLog audit, CancellationToken cancellationToken)
    {
        var row = await inbox.FindAsync(eventId, cancellationToken);
        if (row is null)
        {
            return ApiProblem.NotFound("webhook_event.not_found", "No webhook event with this id.");
        }

        try
        {
            if (!await inbox.ReplayAsync(row, cancellationToken))
            {
                return ApiProblem.Conflict("webhook_event.not_replayable",
                    $"The event is {row.ParsedStatus.ToString().ToLowerInvariant()}; only failed, poison and ignored events are replayed.");
            }
        }
        catch (RequestFailedException ex) when (ex.Status == 412)
        {
            return ApiProblem.Conflict("webhook_event.changed", "The event changed while it was being replayed; look at it again.");
        }

        await audit.RecordAsync(context, AuditLog.PlatformPartition, new AuditEntry("webhook_event.replayed", "webhook_event", eventId, new Dictionary<string, AuditChange>
        {
            ["status"] = new(InboxKeys.StatusText(row.ParsedStatus), InboxKeys.StatusText(InboxStatus.Received)),
        }));

        return TypedResults.Accepted($"/api/v1/ops/webhook-events/{eventId}", (await inbox.GetAsync(eventId, cancellationToken))!);
    }
}

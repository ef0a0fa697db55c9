using System.Globalization;
using System.Reflection;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using RaptorFlow.Functions.Audit;
using RaptorFlow.Functions.Events;
using RaptorFlow.Functions.Idempotency;
using RaptorFlow.Functions.Organizations;
using RaptorFlow.Functions.Platform.Access;
using RaptorFlow.Functions.Platform.Http;
using RaptorFlow.Functions.Platform.Ids;
using RaptorFlow.Functions.Platform.Paging;
using RaptorFlow.Functions.Platform.Problems;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Webhooks;

/// <summary>An org's webhook endpoints, their secrets and their delivery log.</summary>
public static class WebhookEndpointsApi
{
    public const int MaxDescriptionLength = 500;
    public const int MaxRateLimitPerSecond = 1000;
    public static readonly TimeSpan SecretOverlap = TimeSpan.FromHours(24);

    /// <summary>Every event type an endpoint may subscribe to.</summary>
    public static readonly IReadOnlySet<string> KnownEventTypes = typeof(EventTypes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(f => f.IsLiteral && f.FieldType == typeof(string))
        .Select(f => (string)f.GetRawConstantValue()!)
        .ToHashSet(StringComparer.Ordinal);

    public static IEndpointRouteBuilder MapWebhookEndpointRoutes(this IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup("/api/v1/orgs/{orgId}/webhook-endpoints").WithTags("Webhooks").RequireCapability(Capability.WebhooksManage);

        api.MapPost("/", CreateAsync).WithIdempotency()
            .WithName("CreateWebhookEndpoint").WithSummary("Adds an endpoint; the answer carries its signing secret (whsec_…).");
        api.MapGet("/", ListAsync)
            .WithName("ListWebhookEndpoints").WithSummary("The org's endpoints, oldest first, paginated; never their secrets.");
        api.MapGet("/{endpointId}", GetAsync)
            .WithName("GetWebhookEndpoint").WithSummary("One endpoint, with an ETag.");
        api.MapPatch("/{endpointId}", UpdateAsync)
            .WithName("UpdateWebhookEndpoint").WithSummary("Changes an endpoint; absent fields stay. Honours If-Match.").HonoursIfMatch();
        api.MapDelete("/{endpointId}", DeleteAsync)
            .WithName("DeleteWebhookEndpoint").WithSummary("Deletes an endpoint; nothing more is sent to it. Honours If-Match.").HonoursIfMatch();
        api.MapGet("/{endpointId}/secret", GetSecretAsync)
            .WithName("GetWebhookEndpointSecret").WithSummary("The endpoint's current signing secret.");
        api.MapPost("/{endpointId}/rotate-secret", RotateSecretAsync).WithIdempotency()
            .WithName("RotateWebhookEndpointSecret").WithSummary("A new signing secret now; the old one also signs for 24 hours (two signatures). Honours If-Match.").HonoursIfMatch();
        api.MapPost("/{endpointId}/test", TestAsync)
            .WithName("TestWebhookEndpoint").WithSummary("Sends a ping event now and answers with its delivery.");
        api.MapGet("/{endpointId}/deliveries", ListDeliveriesAsync)
            .WithName("ListWebhookDeliveries").WithSummary("Messages to the endpoint, oldest first, each with its attempts; ?status=pending|succeeded|failed|aborted.");
        api.MapGet("/{endpointId}/deliveries/{deliveryId}", GetDeliveryAsync)
            .WithName("GetWebhookDelivery").WithSummary("One message and its attempts.");
        api.MapPost("/{endpointId}/deliveries/{deliveryId}/retry", RetryDeliveryAsync)
            .WithName("RetryWebhookDelivery").WithSummary("Sends a settled message again, with a fresh retry schedule.");
        api.MapPost("/{endpointId}/recover", RecoverAsync)
            .WithName("RecoverWebhookDeliveries").WithSummary("Sends every failed message since a time again, in the background.");

        return routes;
    }

    public static async Task<Results<Created<CreatedWebhookEndpointResponse>, ProblemHttpResult>> CreateAsync(
        string orgId, CreateWebhookEndpointRequest request, HttpContext context, [AsParameters] WebhookEndpointServices services)
    {
        var now = services.Time.GetUtcNow();
        var endpointId = services.Ids.New("whe");
        var row = new WebhookEndpointRow
        {
            PartitionKey = orgId,
            RowKey = endpointId,
            CreatedAt = now,
            UpdatedAt = now,
            CreatedBy = context.GetCaller().Reference,
        };
        if (Apply(row, request.Url, request.EventTypes, request.Description, request.Enabled, request.Ordered, request.RateLimitPerSecond, services.Addresses, now, required: true) is { } problem)
        {
            return problem;
        }

        var secret = WebhookSecrets.Issue();
        row.ProtectedSecret = services.Secrets.Protect(orgId, endpointId, secret);
        await services.Book.AddAsync(row, CancellationToken.None);
        await services.Audit.RecordAsync(context, orgId, new AuditEntry("webhook_endpoint.created", "webhook_endpoint", endpointId, Changes(null, row)));
        context.SetETag(row.ETag);
        return TypedResults.Created($"/api/v1/orgs/{orgId}/webhook-endpoints/{endpointId}",
            new CreatedWebhookEndpointResponse(ToResponse(row, services.Settings.Value, now), secret));
    }

    public static async Task<Ok<CursorPage<WebhookEndpointResponse>>> ListAsync(
        string orgId, PageRequest page, WebhookEndpointBook book, IOptions<WebhookSettings> settings, TimeProvider time, CancellationToken cancellationToken)
    {
        var (rows, next) = await book.PageAsync(orgId, page, cancellationToken);
        return TypedResults.Ok(new CursorPage<WebhookEndpointResponse>([.. rows.Select(r => ToResponse(r, settings.Value, time.GetUtcNow()))], next));
    }

    public static async Task<Results<Ok<WebhookEndpointResponse>, ProblemHttpResult>> GetAsync(
        string orgId, string endpointId, HttpContext context, WebhookEndpointBook book, IOptions<WebhookSettings> settings, TimeProvider time, CancellationToken cancellationToken)
    {
        if (await book.FindAsync(orgId, endpointId, cancellationToken) is not { } row)
        {
            return EndpointNotFound();
        }

        context.SetETag(row.ETag);
        return TypedResults.Ok(ToResponse(row, settings.Value, time.GetUtcNow()));
    }

    public static async Task<Results<Ok<WebhookEndpointResponse>, ProblemHttpResult>> UpdateAsync(
        string orgId, string endpointId, UpdateWebhookEndpointRequest request, HttpContext context, [AsParameters] WebhookEndpointServices services)
    {
        Dictionary<string, string?>? before = null;
        var unchanged = false;
        var edit = await services.Book.EditAsync(orgId, endpointId, context.IfMatch(), row =>
        {
            var was = Snapshot(row);
            before = was;
            var now = services.Time.GetUtcNow();
            if (Apply(row, request.Url, request.EventTypes, request.Description, request.Enabled, request.Ordered, request.RateLimitPerSecond, services.Addresses, now, required: false) is { } problem)
            {
                return problem;
            }

            // A patch that restates what is there writes nothing: no new ETag, updatedAt or audit event.
            unchanged = Snapshot(row).All(field => was[field.Key] == field.Value);
            if (!unchanged)
            {
                row.UpdatedAt = now;
            }

            return null;
        }, CancellationToken.None, changed: _ => !unchanged);
        if (Failed(edit) is { } failed)
        {
            return failed;
        }

        if (edit.Outcome == EndpointEditOutcome.Saved)
        {
            await services.Audit.RecordAsync(context, orgId, new AuditEntry("webhook_endpoint.updated", "webhook_endpoint", endpointId, Changes(before, edit.Row)));
        }

        context.SetETag(edit.Row!.ETag);
        return TypedResults.Ok(ToResponse(edit.Row, services.Settings.Value, services.Time.GetUtcNow()));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(
        string orgId, string endpointId, HttpContext context, WebhookEndpointBook book, AuditLog audit)
    {
        var deleted = await book.DeleteAsync(orgId, endpointId, context.IfMatch(), CancellationToken.None);
        if (Failed(deleted) is { } failed)
        {
            return failed;
        }

        await audit.RecordAsync(context, orgId, new AuditEntry("webhook_endpoint.deleted", "webhook_endpoint", endpointId, Changes(Snapshot(deleted.Row!), null)));
        return TypedResults.NoContent();
    }

    public static async Task<Results<Ok<WebhookSecretResponse>, ProblemHttpResult>> GetSecretAsync(
        string orgId, string endpointId, WebhookEndpointBook book, WebhookSecrets secrets, TimeProvider time, CancellationToken cancellationToken)
    {
        if (await book.FindAsync(orgId, endpointId, cancellationToken) is not { } row)
        {
            return EndpointNotFound();
        }

        return TypedResults.Ok(new WebhookSecretResponse(secrets.Unprotect(orgId, endpointId, row.ProtectedSecret), PreviousExpiry(row, time.GetUtcNow())));
    }

    public static async Task<Results<Ok<WebhookSecretResponse>, ProblemHttpResult>> RotateSecretAsync(
        string orgId, string endpointId, HttpContext context, WebhookEndpointBook book, WebhookSecrets secrets, AuditLog audit, TimeProvider time)
    {
        var secret = WebhookSecrets.Issue();
        var rotated = await book.EditAsync<ProblemHttpResult>(orgId, endpointId, context.IfMatch(), row =>
        {
            var now = time.GetUtcNow();
            row.ProtectedPreviousSecret = row.ProtectedSecret;
            row.PreviousSecretExpiresAt = now + SecretOverlap;
            row.ProtectedSecret = secrets.Protect(orgId, endpointId, secret);
            row.UpdatedAt = now;
            return null;
        }, CancellationToken.None);
        if (Failed(rotated) is { } failed)
        {
            return failed;
        }

        context.SetETag(rotated.Row!.ETag);
        await audit.RecordAsync(context, orgId, new AuditEntry("webhook_endpoint.secret_rotated", "webhook_endpoint", endpointId,
            new Dictionary<string, AuditChange> { ["previousSecretExpiresAt"] = new(null, rotated.Row.PreviousSecretExpiresAt?.ToString("O")) }));
        return TypedResults.Ok(new WebhookSecretResponse(secret, rotated.Row.PreviousSecretExpiresAt));
    }

    public static async Task<Results<Ok<WebhookDeliveryResponse>, ProblemHttpResult>> TestAsync(
        string orgId, string endpointId, WebhookDeliveries deliveries, IdGenerator ids, TimeProvider time, CancellationToken cancellationToken)
    {
        if (await deliveries.FindEndpointAsync(orgId, endpointId, cancellationToken) is not { } endpoint)
        {
            return EndpointNotFound();
        }

        var data = JsonSerializer.SerializeToElement(new WebhookPing(endpointId), ApiJsonContext.Default.WebhookPing);
        var ping = new DomainEvent(ids.New("evt"), EventTypes.Ping, time.GetUtcNow(), orgId, data);
        var row = await deliveries.AddMessageAsync(endpoint, ping, schedule: false, cancellationToken);
        await deliveries.RunAttemptAsync(new WebhookDeliveryMessage(orgId, endpointId, row.DeliveryId, row.Round, 1), CancellationToken.None);
        var settled = await deliveries.FindMessageAsync(endpoint, row.DeliveryId, CancellationToken.None);
        return TypedResults.Ok(ToResponse(settled ?? row));
    }

    public static async Task<Results<Ok<CursorPage<WebhookDeliveryResponse>>, ProblemHttpResult>> ListDeliveriesAsync(
        string orgId, string endpointId, string? status, PageRequest page, WebhookEndpointBook book, CancellationToken cancellationToken)
    {
        if (status is not null && !DeliveryStatus.All.Contains(status))
        {
            return ApiProblem.Validation(new Dictionary<string, string[]> { ["status"] = [$"One of {string.Join(", ", DeliveryStatus.All)}."] });
        }

        if (await book.FindAsync(orgId, endpointId, cancellationToken) is not { } endpoint)
        {
            return EndpointNotFound();
        }

        var (rows, next) = await book.PageDeliveriesAsync(endpoint, status, page, cancellationToken);
        return TypedResults.Ok(new CursorPage<WebhookDeliveryResponse>([.. rows.Select(ToResponse)], next));
    }

    public static async Task<Results<Ok<WebhookDeliveryResponse>, ProblemHttpResult>> GetDeliveryAsync(
        string orgId, string endpointId, string deliveryId, WebhookDeliveries deliveries, CancellationToken cancellationToken)
    {
        var endpoint = await deliveries.FindEndpointAsync(orgId, endpointId, cancellationToken);
        var row = endpoint is null ? null : await deliveries.FindMessageAsync(endpoint, deliveryId, cancellationToken);
        return row is null ? DeliveryNotFound() : TypedResults.Ok(ToResponse(row));
    }

    public static async Task<Results<Accepted<WebhookDeliveryResponse>, ProblemHttpResult>> RetryDeliveryAsync(
        string orgId, string endpointId, string deliveryId, HttpContext context, WebhookDeliveries deliveries, AuditLog audit)
    {
        var endpoint = await deliveries.FindEndpointAsync(orgId, endpointId, CancellationToken.None);
        var row = endpoint is null ? null : await deliveries.FindMessageAsync(endpoint, deliveryId, CancellationToken.None);
        if (endpoint is null || row is null)
        {
            return DeliveryNotFound();
        }

        if (row.Status == DeliveryStatus.Pending)
        {
            return ApiProblem.Conflict("webhook.delivery_pending", "The message is still being delivered; retry it once it has succeeded, failed or been aborted.");
        }

        if (await deliveries.RetryAsync(endpoint, row, CancellationToken.None) is not { } retried)
        {
            return ApiProblem.Conflict("webhook.delivery_changed", "The message changed while it was being retried; fetch it and try again.");
        }

        await audit.RecordAsync(context, orgId, new AuditEntry("webhook_delivery.retried", "webhook_delivery", deliveryId,
            new Dictionary<string, AuditChange> { ["endpointId"] = new(null, endpointId), ["round"] = new(null, retried.Round.ToString(CultureInfo.InvariantCulture)) }));
        return TypedResults.Accepted($"/api/v1/orgs/{orgId}/webhook-endpoints/{endpointId}/deliveries/{deliveryId}", ToResponse(retried));
    }

    public static async Task<Results<Accepted<WebhookRecoveryResponse>, ProblemHttpResult>> RecoverAsync(
        string orgId, string endpointId, RecoverWebhookDeliveriesRequest request, HttpContext context, WebhookDeliveries deliveries, AuditLog audit, TimeProvider time)
    {
        if (request.Since is not { } since || since > time.GetUtcNow() || since < time.GetUtcNow().AddDays(-30))
        {
            return ApiProblem.Validation(new Dictionary<string, string[]> { ["since"] = ["Required: a time within the last 30 days."] });
        }

        if (await deliveries.FindEndpointAsync(orgId, endpointId, CancellationToken.None) is null)
        {
            return EndpointNotFound();
        }

        await deliveries.ScheduleRecoveryAsync(new WebhookRecoveryMessage(orgId, endpointId, since.ToUniversalTime()), CancellationToken.None);
        await audit.RecordAsync(context, orgId, new AuditEntry("webhook_endpoint.recovery_started", "webhook_endpoint", endpointId,
            new Dictionary<string, AuditChange> { ["since"] = new(null, since.ToUniversalTime().ToString("O")) }));
        return TypedResults.Accepted($"/api/v1/orgs/{orgId}/webhook-endpoints/{endpointId}/deliveries?status=pending", new WebhookRecoveryResponse(endpointId, since.ToUniversalTime()));
    }

    /// <summary>Applies the given fields to <paramref name="row"/>; a problem, and the row untouched in what matters, when one is invalid.</summary>
    private static ProblemHttpResult? Apply(
        WebhookEndpointRow row, string? url, string[]? eventTypes, string? description, bool? enabled, bool? ordered, int? rateLimitPerSecond,
        WebhookAddresses addresses, DateTimeOffset now, bool required)
    {
        if (url is not null || required)
        {
            if (addresses.RefusalOf(url) is { } refusal)
            {
                return ApiProblem.Create(StatusCodes.Status400BadRequest, "webhook.invalid_url", "The endpoint URL is not acceptable.", refusal,
                    new Dictionary<string, string[]> { ["url"] = [refusal] });
            }
        }

        if (eventTypes is not null)
        {
            var unknown = eventTypes.Where(t => t is null || !KnownEventTypes.Contains(t)).Select(t => t is null ? "null" : t.Length > 60 ? t[..60] + "…" : t).ToList();
            if (unknown.Count > 0)
            {
                var detail = $"Unknown event types: {string.Join(", ", unknown)}.";
                return ApiProblem.Create(StatusCodes.Status400BadRequest, "webhook.unknown_event_type", "The request names unknown event types.", detail,
                    new Dictionary<string, string[]> { ["eventTypes"] = [detail] });
            }
        }

        var errors = new Dictionary<string, string[]>();
        var text = FieldRules.Text(description, "description", MaxDescriptionLength, errors, required: false);
        if (rateLimitPerSecond is < 1 or > MaxRateLimitPerSecond)
        {
            errors["rateLimitPerSecond"] = [$"From 1 to {MaxRateLimitPerSecond}."];
        }

        if (errors.Count > 0)
        {
            return ApiProblem.Validation(errors);
        }

        if (url is not null)
        {
            row.Url = url.Trim();
        }

        if (eventTypes is not null)
        {
            row.EventTypes = string.Join(' ', eventTypes.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal));
        }

        if (description is not null)
        {
            row.Description = text;
        }

        if (enabled is { } on && on != row.Enabled)
        {
            row.Enabled = on;
            row.DisabledReason = on ? null : "manual";
            row.DisabledAt = on ? null : now;
            row.FailingSince = null;
        }

        row.Ordered = ordered ?? row.Ordered;
        row.RateLimitPerSecond = rateLimitPerSecond ?? row.RateLimitPerSecond;
        return null;
    }

    private static Dictionary<string, string?> Snapshot(WebhookEndpointRow row) => new()
    {
        ["url"] = row.Url,
        ["eventTypes"] = row.EventTypes,
        ["description"] = row.Description,
        ["enabled"] = row.Enabled ? "true" : "false",
        ["ordered"] = row.Ordered ? "true" : "false",
        ["rateLimitPerSecond"] = row.RateLimitPerSecond?.ToString(CultureInfo.InvariantCulture),
    };

    private static Dictionary<string, AuditChange> Changes(Dictionary<string, string?>? before, WebhookEndpointRow? after)
    {
        var now = after is null ? null : Snapshot(after);
        var changes = new Dictionary<string, AuditChange>();
        foreach (var key in (before ?? now)!.Keys)
        {
            string? was = before?[key], becomes = now?[key];
            if (was != becomes)
            {
                changes[key] = new AuditChange(was, becomes);
            }
        }

        return changes;
    }

    private static DateTimeOffset? PreviousExpiry(WebhookEndpointRow row, DateTimeOffset now) =>
        row.ProtectedPreviousSecret is not null && row.PreviousSecretExpiresAt > now ? row.PreviousSecretExpiresAt : null;

    internal static WebhookEndpointResponse ToResponse(WebhookEndpointRow row, WebhookSettings settings, DateTimeOffset now) => new(
        row.EndpointId, row.OrgId, row.Url, row.Description, row.EventTypeList, row.Enabled, row.DisabledReason, row.DisabledAt, row.Ordered,
        row.RateLimitPerSecond ?? settings.DefaultRateLimitPerSecond, row.CreatedAt, row.UpdatedAt, row.FailingSince, PreviousExpiry(row, now));

    private static WebhookDeliveryResponse ToResponse(WebhookMessageRow row) => new(
        row.DeliveryId, row.EndpointId, row.EventId, row.EventType, row.EventCreatedAt, row.Status, row.Round, row.AttemptCount, row.NextAttemptAt,
        WebhookDeliveries.AttemptsOf(row));

    private static ProblemHttpResult? Failed<TRejection>(EndpointEdit<TRejection> edit)
        where TRejection : class => edit.Outcome switch
        {
            EndpointEditOutcome.NotFound => EndpointNotFound(),
            EndpointEditOutcome.Stale => ApiProblem.PreconditionFailed(),
            EndpointEditOutcome.Rejected => edit.Rejection as ProblemHttpResult,
            _ => null,
        };

    private static ProblemHttpResult EndpointNotFound() => ApiProblem.NotFound("webhook.endpoint_not_found", "No webhook endpoint with this id in this organization.");

    private static ProblemHttpResult DeliveryNotFound() => ApiProblem.NotFound("webhook.delivery_not_found", "No delivery with this id for this endpoint in this organization.");
}

using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using RaptorFlow.Functions.Platform.Access;
using RaptorFlow.Functions.Platform.Http;
using RaptorFlow.Functions.Platform.Problems;
using RaptorFlow.Functions.Platform.RateLimiting;
using RaptorFlow.Functions.Platform.Storage;
using RaptorFlow.Functions.Platform.Telemetry;

namespace RaptorFlow.Functions.Razorpay;

public sealed record WebhookAccepted(string EventId, bool Duplicate);

/// <summary>
/// Razorpay's webhook endpoint. The signature covers the raw bytes only, so the body is read once
/// as bytes and never re-serialised; the event id (Razorpay's header, or a hash of the body) is the
/// only replay guard, and the inbox's insert-if-absent enforces it.
/// </summary>
public static partial class RazorpayWebhookApi
{
    public const long MaxBodyBytes = 1024 * 1024;

    public static IEndpointRouteBuilder MapRazorpayWebhooks(this IEndpointRouteBuilder routes)
    {
        var webhooks = routes.MapGroup("/api/v1/webhooks").WithTags("Webhooks")
            .IsPublic("Razorpay authenticates each webhook with an HMAC signature of its body.");

        webhooks.MapPost("/razorpay", ReceiveAsync)
            .WithRequestBodyLimit(MaxBodyBytes)
            .LimitPerClientAddress("razorpay-webhook", s => s.RazorpayWebhookPerAddress)
            .WithName("ReceiveRazorpayWebhook")
            .WithSummary("Receives a Razorpay webhook: verifies its signature, stores it once and queues it for posting.")
            .Produces<WebhookAccepted>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        return routes;
    }

    public static async Task<Results<Ok<WebhookAccepted>, ProblemHttpResult>> ReceiveAsync(
        HttpRequest request,
        WebhookSignature signature,
        RazorpayInbox inbox,
        ILoggerFactory loggers,
        CancellationToken cancellationToken)
    {
        var logger = loggers.CreateLogger(typeof(RazorpayWebhookApi));
        var body = await ReadBodyAsync(request, cancellationToken);
        var check = await signature.VerifyAsync(body, request.Headers["X-Razorpay-Signature"].FirstOrDefault(), cancellationToken);
        if (Refusal(check, body.Length, logger) is { } refused)
        {
            return refused;
        }

        var (received, invalid) = Read(body, request.Headers["x-razorpay-event-id"].FirstOrDefault());
        if (received is null)
        {
            Received("invalid");
            return invalid!;
        }

        bool stored;
        try
        {
            stored = await inbox.AcceptAsync(received.EventId, received.EventName, body, received.Sha256, cancellationToken);
        }
        catch (Exception ex) when (StorageUnavailable.Is(ex))
        {
            LogStorageUnavailable(logger, ex, received.EventId);
            return NotStored(request.HttpContext.Response);
        }

        LogReceived(logger, received.EventId, received.EventName, !stored);
        Received(stored ? "accepted" : "duplicate");
        return TypedResults.Ok(new WebhookAccepted(received.EventId, !stored));
    }

    private sealed record ReceivedEvent(string EventId, string EventName, string Sha256);

    /// <summary>Nothing was stored: a 5xx makes Razorpay retry the delivery later; 503 says it is temporary.</summary>
    private static ProblemHttpResult NotStored(HttpResponse response)
    {
        Received("storage_unavailable");
        response.Headers.RetryAfter = "10";
        return ApiProblem.Create(StatusCodes.Status503ServiceUnavailable, "webhook.storage_unavailable",
            "The webhook could not be stored.", "Storage is unavailable; deliver the event again later.");
    }

    private static ProblemHttpResult? Refusal(SignatureCheck check, int length, ILogger logger)
    {
        switch (check)
        {
            case SignatureCheck.NotConfigured:
                LogNotConfigured(logger);
                Received("not_configured");
                return ApiProblem.Create(StatusCodes.Status503ServiceUnavailable, "webhook.not_configured",
                    "Webhooks cannot be verified.", "No webhook secret is configured.");
            case SignatureCheck.Invalid:
                LogRejected(logger, length);
                Received("signature_invalid");
                return ApiProblem.Create(StatusCodes.Status401Unauthorized, "webhook.signature_invalid",
                    "The webhook signature is missing or wrong.", "X-Razorpay-Signature must be the HMAC-SHA256 of the raw body under the webhook secret.");
            default:
                return null;
        }
    }

    /// <summary>The event's name and id (Razorpay's header, or a hash of the body), or why the body is not an event.</summary>
    private static (ReceivedEvent? Event, ProblemHttpResult? Problem) Read(ReadOnlyMemory<byte> body, string? eventIdHeader)
    {
        string? eventName;
        try
        {
            using var document = JsonDocument.Parse(body);
            eventName = RazorpayEvent.EventNameOf(document.RootElement);
        }
        catch (JsonException)
        {
            return (null, ApiProblem.Create(StatusCodes.Status400BadRequest, "webhook.malformed_json", "The webhook body is not JSON."));
        }

        if (eventName is null)
        {
            return (null, ApiProblem.Create(StatusCodes.Status400BadRequest, "webhook.invalid_event",
                "The webhook is not a Razorpay event.", "The body must be a JSON object with an 'event' string and a 'payload' object."));
        }

        var sha256 = Convert.ToHexStringLower(SHA256.HashData(body.Span));
        if (string.IsNullOrEmpty(eventIdHeader))
        {
            return (new ReceivedEvent("sha256_" + sha256, eventName, sha256), null);
        }

        return EventIdShape().IsMatch(eventIdHeader)
            ? (new ReceivedEvent(eventIdHeader, eventName, sha256), null)
            : (null, ApiProblem.Validation(new Dictionary<string, string[]>
            {
                ["x-razorpay-event-id"] = ["An event id is 1-100 letters, digits, '_' or '-'."],
            }));
    }

    private static async Task<ReadOnlyMemory<byte>> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        // The endpoint's body limit is enforced by the server while reading; a longer body throws 413.
        using var buffer = new MemoryStream(request.ContentLength is > 0 and <= MaxBodyBytes ? (int)request.ContentLength.Value : 4096);
        await request.Body.CopyToAsync(buffer, cancellationToken);
        if (buffer.Length > MaxBodyBytes)
        {
            throw new BadHttpRequestException("The request body is too large.", StatusCodes.Status413PayloadTooLarge);
        }

        return buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
    }

    private static void Received(string outcome) => AppMetrics.Count(AppMetrics.WebhooksReceived, "outcome", outcome);

    [GeneratedRegex("^[A-Za-z0-9_-]{1,100}$")]
    private static partial Regex EventIdShape();

    [LoggerMessage(Level = LogLevel.Information, Message = "Razorpay webhook {EventId} ({EventName}) received; duplicate: {Duplicate}")]
    private static partial void LogReceived(ILogger logger, string eventId, string eventName, bool duplicate);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Razorpay webhook rejected: bad signature ({Length} bytes)")]
    private static partial void LogRejected(ILogger logger, int length);

    [LoggerMessage(Level = LogLevel.Error, Message = "Razorpay webhook received but no webhook secret is configured")]
    private static partial void LogNotConfigured(ILogger logger);

    [LoggerMessage(Level = LogLevel.Error, Message = "Razorpay webhook {EventId} not stored: storage is unavailable; answered 503")]
    private static partial void LogStorageUnavailable(ILogger logger, Exception exception, string eventId);
}

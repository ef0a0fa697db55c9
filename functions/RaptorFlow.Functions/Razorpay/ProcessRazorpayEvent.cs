using System.Text.Json;
using Microsoft.Extensions.Options;
using RaptorFlow.Functions.Hosting;
using RaptorFlow.Functions.Ledger;
using RaptorFlow.Functions.Platform.Telemetry;

namespace RaptorFlow.Functions.Razorpay;

/// <summary>
/// Queue function on <c>razorpay-events</c>: posts a stored event to the ledger, then marks it
/// processed or ignored. A failure is recorded on the inbox row and rethrown so the queue retries;
/// the failure on the last allowed dequeue marks the event poison for ops to replay.
/// </summary>
public sealed partial class ProcessRazorpayEvent(
    RazorpayInbox inbox,
    RazorpayEventProcessor processor,
    IOptions<RazorpaySettings> settings,
    ILogger<ProcessRazorpayEvent> logger) : IQueueFunction
{
    public const string FunctionName = "ProcessRazorpayEvent";

    private static readonly JsonSerializerOptions MessageJson = new(JsonSerializerDefaults.Web) { TypeInfoResolver = ApiJsonContext.WithReflectionFallback };

    public async Task RunAsync(QueueTriggerMessage message, CancellationToken cancellationToken)
    {
        var queued = message.TryReadJson<InboxMessage>(MessageJson);

        if (queued?.EventId is not { Length: > 0 } eventId)
        {
            // Not written by us; retrying cannot help, so complete it and say so.
            LogUnreadable(logger, message.MessageId);
            return;
        }

        var row = await inbox.FindAsync(eventId, cancellationToken);
        if (row is null)
        {
            // The inbox row is written before the message, so this message names no event.
            LogUnknownEvent(logger, eventId);
            return;
        }

        if (row.ParsedStatus is InboxStatus.Processed or InboxStatus.Ignored)
        {
            return;
        }

        var attempts = (int)Math.Min(message.DequeueCount, int.MaxValue);
        try
        {
            var body = await inbox.ReadBodyAsync(row, cancellationToken);
            using var document = JsonDocument.Parse(body);
            var outcome = await processor.ProcessAsync(new RazorpayEvent(eventId, row.Event, document.RootElement), cancellationToken);
            await inbox.MarkAsync(eventId, outcome.Status, outcome.Detail, attempts, cancellationToken, lastRead: row);
            LogProcessed(logger, eventId, row.Event, outcome.Status);
            AppMetrics.Count(AppMetrics.WebhooksProcessed, "outcome", InboxKeys.StatusText(outcome.Status));
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            var poison = message.DequeueCount >= settings.Value.MaxDequeueCount;
            LogFailed(logger, ex, eventId, row.Event, message.DequeueCount, poison);
            AppMetrics.Count(AppMetrics.WebhooksProcessed, "outcome", InboxKeys.StatusText(poison ? InboxStatus.Poison : InboxStatus.Failed));
            await inbox.MarkAsync(eventId, poison ? InboxStatus.Poison : InboxStatus.Failed, Describe(ex), attempts, CancellationToken.None);
            throw;
        }
    }

    /// <summary>What ops see: the failure's kind and our own message, never a stack trace.</summary>
    private static string Describe(Exception ex) => ex switch
    {
        PostingConflictException or InvalidPostingException => $"{ex.GetType().Name}: {ex.Message}",
        Azure.RequestFailedException storage => $"Storage error {storage.Status} ({storage.ErrorCode}).",
        JsonException => "The stored body is not valid JSON.",
        _ => $"{ex.GetType().Name}.",
    };

    [LoggerMessage(Level = LogLevel.Error, Message = "Queue message {MessageId} on razorpay-events is not an inbox message; completed without processing")]
    private static partial void LogUnreadable(ILogger logger, string? messageId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Queue message names webhook event {EventId}, which is not in the inbox")]
    private static partial void LogUnknownEvent(ILogger logger, string eventId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Webhook event {EventId} ({EventName}): {Status}")]
    private static partial void LogProcessed(ILogger logger, string eventId, string eventName, InboxStatus status);

    [LoggerMessage(Level = LogLevel.Error, Message = "Webhook event {EventId} ({EventName}) failed on dequeue {DequeueCount}; poison: {Poison}")]
    private static partial void LogFailed(ILogger logger, Exception exception, string eventId, string eventName, long dequeueCount, bool poison);
}

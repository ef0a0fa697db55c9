using System.Buffers;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Options;
using RaptorFlow.Functions.Audit;
using RaptorFlow.Functions.Events;
using RaptorFlow.Functions.Platform.Ids;
using RaptorFlow.Functions.Platform.Storage;
using RaptorFlow.Functions.Platform.Telemetry;

namespace RaptorFlow.Functions.Webhooks;

/// <summary>
/// The life of a webhook message: fan-out of an event to the org's endpoints, each attempt (claimed
/// on the message row with its ETag, so a duplicate queue message never sends twice), the retry
/// schedule carried by queue-message visibility, ordered endpoints, manual retries and recovery,
/// and the endpoint's health (disabled after failing every attempt for
/// <see cref="WebhookSettings.DisableAfter"/>).
/// </summary>
public sealed partial class WebhookDeliveries(
    StorageAccount storage,
    WebhookQueues queues,
    WebhookSecrets secrets,
    WebhookSender sender,
    WebhookRateLimits rateLimits,
    AuditLog audit,
    EventOutbox outbox,
    IOptions<WebhookSettings> settings,
    TimeProvider time,
    ILogger<WebhookDeliveries> logger)
{
    /// <summary>A claimed attempt whose outcome was never recorded (the process died) may be taken over after this.</summary>
    public static readonly TimeSpan StaleClaim = TimeSpan.FromMinutes(2);

    /// <summary>How long a message waits when its endpoint's rate limit is spent.</summary>
    public static readonly TimeSpan RateLimitedDelay = TimeSpan.FromSeconds(1);

    public TableClient Endpoints => storage.Table(WebhookEndpointRow.TableName);

    public TableClient Messages => storage.Table(WebhookMessageRow.TableName);

    /// <summary>The org's endpoint rows: its partition up to the outbox rows of events staged there.</summary>
    internal static string EndpointsOf(string orgId) =>
        TableClient.CreateQueryFilter($"PartitionKey eq {orgId} and RowKey lt {OutboxKeys.RowPrefix}");

    /// <summary>A message for each enabled endpoint of the event's org that wants its type.</summary>
    public async Task FanOutAsync(DomainEvent domainEvent, CancellationToken cancellationToken)
    {
        await foreach (var endpoint in Endpoints.QueryAsync<WebhookEndpointRow>(EndpointsOf(domainEvent.OrgId), cancellationToken: cancellationToken))
        {
            if (endpoint.Enabled && endpoint.Wants(domainEvent.Type))
            {
                await AddMessageAsync(endpoint, domainEvent, schedule: true, cancellationToken);
            }
        }
    }

    /// <summary>
    /// Adds the event's message for <paramref name="endpoint"/> (once: its row key comes from the
    /// event) and, with <paramref name="schedule"/>, queues its first attempt unless one was made.
    /// </summary>
    public async Task<WebhookMessageRow> AddMessageAsync(WebhookEndpointRow endpoint, DomainEvent domainEvent, bool schedule, CancellationToken cancellationToken)
    {
        var row = new WebhookMessageRow
        {
            PartitionKey = WebhookMessageRow.PartitionFor(endpoint.OrgId, endpoint.EndpointId),
            RowKey = IdGenerator.Derived("msg", domainEvent.CreatedAt, domainEvent.Id),
            OrgId = endpoint.OrgId,
            EndpointId = endpoint.EndpointId,
            EventId = domainEvent.Id,
            EventType = domainEvent.Type,
            EventCreatedAt = domainEvent.CreatedAt,
            CreatedAt = time.GetUtcNow(),
            Status = DeliveryStatus.Pending,
            Body = Body(domainEvent),
        };
        try
        {
            var added = await Messages.AddEntityAsync(row, cancellationToken);
            row.ETag = added.Headers.ETag ?? default;
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            // A repeated fan-out: the message exists; queue its first attempt again only if none was made.
            row = (await Messages.GetEntityAsync<WebhookMessageRow>(row.PartitionKey, row.RowKey, cancellationToken: cancellationToken)).Value;
            if (row.Status != DeliveryStatus.Pending || row.AttemptCount > 0)
            {
                return row;
            }
        }

        if (schedule)
        {
            await ScheduleAsync(new WebhookDeliveryMessage(row.OrgId, row.EndpointId, row.DeliveryId, row.Round, 1), TimeSpan.Zero, cancellationToken);
        }

        return row;
    }

    /// <summary>Runs the attempt a queue message names, if it is still the one due; anything else is a stale duplicate and does nothing.</summary>
    public async Task RunAttemptAsync(WebhookDeliveryMessage message, CancellationToken cancellationToken)
    {
        var endpoint = await FindEndpointAsync(message.OrgId, message.EndpointId, cancellationToken);
        var row = endpoint is null ? null : await FindMessageAsync(endpoint, message.DeliveryId, cancellationToken);
        if (endpoint is null || row is null)
        {
            return;
        }

        var now = time.GetUtcNow();
        var due = row.Status == DeliveryStatus.Pending && row.Round == message.Round
            && (row.AttemptCount + 1 == message.Attempt || (row.AttemptCount == message.Attempt && row.InFlightSince + StaleClaim <= now));
        if (!due)
        {
            if (endpoint.Ordered)
            {
                await AdvanceOrderedAsync(endpoint, cancellationToken);
            }

            return;
        }

        if (!endpoint.Enabled && row.EventType != EventTypes.Ping)
        {
            // Nothing is sent to a disabled endpoint; a recovery after it is enabled again re-sends these.
            await RecordAsync(endpoint, row, message, new AttemptOutcome(null, TimeSpan.Zero, null, AttemptErrorKind.EndpointDisabled, AbortRequested: false), now, cancellationToken);
            return;
        }

        if (endpoint.Ordered && !await IsHeadAsync(endpoint, row, cancellationToken))
        {
            // The head's outcome queues the next message.
            return;
        }

        if (!await rateLimits.TryAcquireAsync(endpoint, cancellationToken))
        {
            await ScheduleAsync(message, RateLimitedDelay, cancellationToken);
            return;
        }

        row.AttemptCount = message.Attempt;
        row.InFlightSince = now;
        try
        {
            var claimed = await Messages.UpdateEntityAsync(row, row.ETag, TableUpdateMode.Replace, cancellationToken);
            row.ETag = claimed.Headers.ETag ?? default;
        }
        catch (RequestFailedException ex) when (ex.Status is 412 or 404)
        {
            return;
        }

        var outcome = await sender.SendAsync(new Uri(endpoint.Url), row.EventId, secrets.SigningSecrets(endpoint, now), row.Body, cancellationToken);
        LogAttempt(logger, row.DeliveryId, endpoint.EndpointId, message.Attempt, outcome.StatusCode, outcome.ErrorKind);
        AppMetrics.Count(AppMetrics.WebhookDeliveries, "outcome", outcome.Succeeded ? "succeeded" : outcome.ErrorKind ?? "http_error");
        await RecordAsync(endpoint, row, message, outcome, now, cancellationToken);
    }

    /// <summary>Starts a new round for a finished message: its first attempt is queued now.</summary>
    public async Task<WebhookMessageRow?> RetryAsync(WebhookEndpointRow endpoint, WebhookMessageRow row, CancellationToken cancellationToken)
    {
        row.Round++;
        row.AttemptCount = 0;
        row.InFlightSince = null;
        row.Status = DeliveryStatus.Pending;
        row.NextAttemptAt = time.GetUtcNow();
        try
        {
            var updated = await Messages.UpdateEntityAsync(row, row.ETag, TableUpdateMode.Replace, cancellationToken);
            row.ETag = updated.Headers.ETag ?? default;
        }
        catch (RequestFailedException ex) when (ex.Status is 412 or 404)
        {
            return null;
        }

        await ScheduleAsync(new WebhookDeliveryMessage(endpoint.OrgId, endpoint.EndpointId, row.DeliveryId, row.Round, 1), TimeSpan.Zero, cancellationToken);
        return row;
    }

    /// <summary>Re-sends every failed message of the endpoint created at or after <paramref name="since"/>; returns how many.</summary>
    public async Task<int> RecoverAsync(string orgId, string endpointId, DateTimeOffset since, CancellationToken cancellationToken)
    {
        var endpoint = await FindEndpointAsync(orgId, endpointId, cancellationToken);
        if (endpoint is null)
        {
            return 0;
        }

        var partition = WebhookMessageRow.PartitionFor(orgId, endpointId);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {partition} and Status eq {DeliveryStatus.Failed} and CreatedAt ge {since}");
        var count = 0;
        await foreach (var row in Messages.QueryAsync<WebhookMessageRow>(filter, cancellationToken: cancellationToken))
        {
            if (await RetryAsync(endpoint, row, cancellationToken) is not null)
            {
                count++;
            }
        }

        LogRecovered(logger, endpointId, count);
        return count;
    }

    public Task ScheduleRecoveryAsync(WebhookRecoveryMessage message, CancellationToken cancellationToken) =>
        storage.Queue(queues.Recoveries).SendMessageAsync(JsonSerializer.Serialize(message, WebhookJson.RecoveryMessage), cancellationToken);

    public async Task<WebhookEndpointRow?> FindEndpointAsync(string orgId, string endpointId, CancellationToken cancellationToken)
    {
        if (!IdGenerator.IsWellFormed(endpointId, "whe"))
        {
            return null;
        }

        var found = await Endpoints.GetEntityIfExistsAsync<WebhookEndpointRow>(orgId, endpointId, cancellationToken: cancellationToken);
        return found.HasValue ? found.Value : null;
    }

    public async Task<WebhookMessageRow?> FindMessageAsync(WebhookEndpointRow endpoint, string deliveryId, CancellationToken cancellationToken)
    {
        if (!IdGenerator.IsWellFormed(deliveryId, "msg"))
        {
            return null;
        }

        var found = await Messages.GetEntityIfExistsAsync<WebhookMessageRow>(
            WebhookMessageRow.PartitionFor(endpoint.OrgId, endpoint.EndpointId), deliveryId, cancellationToken: cancellationToken);
        return found.HasValue ? found.Value : null;
    }

    public static IReadOnlyList<DeliveryAttempt> AttemptsOf(WebhookMessageRow row) =>
        JsonSerializer.Deserialize(row.Attempts, WebhookJson.Attempts) ?? [];

    /// <summary>The Standard Webhooks body: <c>{"type","timestamp","data"}</c> plus our <c>id</c> and <c>orgId</c>.</summary>
    public static byte[] Body(DomainEvent domainEvent)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("type", domainEvent.Type);
            writer.WriteString("timestamp", domainEvent.CreatedAt.ToUniversalTime());
            writer.WritePropertyName("data");
            domainEvent.Data.WriteTo(writer);
            writer.WriteString("id", domainEvent.Id);
            writer.WriteString("orgId", domainEvent.OrgId);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private async Task RecordAsync(
        WebhookEndpointRow endpoint, WebhookMessageRow row, WebhookDeliveryMessage message, AttemptOutcome outcome, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var disabled = outcome.ErrorKind == AttemptErrorKind.EndpointDisabled;
        var retryIn = outcome.Succeeded || outcome.AbortRequested || disabled ? null : WebhookRetrySchedule.DelayBefore(message.Attempt + 1, Random.Shared.NextDouble());
        row.Status = outcome.Succeeded ? DeliveryStatus.Succeeded
            : outcome.AbortRequested ? DeliveryStatus.Aborted
            : retryIn is null ? DeliveryStatus.Failed
            : DeliveryStatus.Pending;

        // The next attempt is queued before the outcome is written: a crash between the two repeats
        // this attempt (the claim goes stale), it never loses the retry.
        if (retryIn is { } delay)
        {
            await ScheduleAsync(message with { Attempt = message.Attempt + 1 }, delay, cancellationToken);
        }

        var attempts = AttemptsOf(row).ToList();
        attempts.Add(new DeliveryAttempt(message.Round, message.Attempt, at, outcome.StatusCode, (long)outcome.Duration.TotalMilliseconds, outcome.ResponseBody, outcome.ErrorKind));
        row.Attempts = JsonSerializer.Serialize(attempts.TakeLast(WebhookMessageRow.MaxKeptAttempts).ToList(), WebhookJson.Attempts);
        row.AttemptCount = message.Attempt;
        row.InFlightSince = null;
        row.LastAttemptAt = at;
        row.NextAttemptAt = at + retryIn;
        try
        {
            await Messages.UpdateEntityAsync(row, row.ETag, TableUpdateMode.Replace, CancellationToken.None);
        }
        catch (RequestFailedException ex) when (ex.Status is 412 or 404)
        {
            // A stale claim was taken over, or the message was retried by hand meanwhile: theirs stands.
            return;
        }

        if (!disabled)
        {
            await (outcome.Succeeded ? MarkHealthyAsync(endpoint) : MarkFailingAsync(endpoint, at));
        }

        if (endpoint.Ordered && row.Status != DeliveryStatus.Pending)
        {
            await AdvanceOrderedAsync(endpoint, cancellationToken);
        }
    }

    private async Task MarkHealthyAsync(WebhookEndpointRow endpoint)
    {
        if (endpoint.FailingSince is null)
        {
            return;
        }

        endpoint.FailingSince = null;
        await TryUpdateAsync(endpoint);
    }

    private async Task MarkFailingAsync(WebhookEndpointRow endpoint, DateTimeOffset at)
    {
        if (endpoint.FailingSince is not { } since)
        {
            endpoint.FailingSince = at;
            await TryUpdateAsync(endpoint);
            return;
        }

        if (!endpoint.Enabled || at - since < settings.Value.DisableAfter)
        {
            return;
        }

        endpoint.Enabled = false;
        endpoint.DisabledReason = "failing";
        endpoint.DisabledAt = at;
        endpoint.UpdatedAt = at;
        if (await TryDisableAsync(endpoint, since))
        {
            await audit.RecordAsync(endpoint.OrgId, AuditActor.System("webhooks"), new AuditEntry("webhook_endpoint.disabled", "webhook_endpoint", endpoint.EndpointId,
                new Dictionary<string, AuditChange>
                {
                    ["enabled"] = new("true", "false"),
                    ["reason"] = new(null, $"Every attempt failed since {since:O}."),
                }));
        }
    }

    /// <summary>
    /// Disables the endpoint and writes <c>webhook_endpoint.disabled</c> (data: the endpoint as the
    /// API returns it) in one transaction in its partition; false when another writer changed it first.
    /// </summary>
    private async Task<bool> TryDisableAsync(WebhookEndpointRow endpoint, DateTimeOffset failingSince)
    {
        var staged = await outbox.StageAsync(endpoint.OrgId, EventTypes.WebhookEndpointDisabled,
            WebhookEndpointsApi.ToResponse(endpoint, settings.Value, time.GetUtcNow()), WebhookEndpointRow.TableName, endpoint.OrgId, CancellationToken.None);
        try
        {
            var response = await Endpoints.SubmitTransactionAsync(
            [
                new TableTransactionAction(TableTransactionActionType.UpdateReplace, endpoint, endpoint.ETag),
                staged.Action,
            ], CancellationToken.None);
            endpoint.ETag = response.Value[0].Headers.ETag ?? endpoint.ETag;
        }
        catch (TableTransactionFailedException ex) when (ex.Status is 404 or 409 or 412)
        {
            return false;
        }

        LogDisabled(logger, endpoint.EndpointId, endpoint.OrgId, failingSince);
        await outbox.PublishAsync(staged, CancellationToken.None);
        return true;
    }

    /// <summary>Health bookkeeping loses a race quietly: the next attempt writes it again.</summary>
    private async Task<bool> TryUpdateAsync(WebhookEndpointRow endpoint)
    {
        try
        {
            var updated = await Endpoints.UpdateEntityAsync(endpoint, endpoint.ETag, TableUpdateMode.Replace, CancellationToken.None);
            endpoint.ETag = updated.Headers.ETag ?? default;
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status is 412 or 404)
        {
            return false;
        }
    }

    private async Task<WebhookMessageRow?> HeadAsync(WebhookEndpointRow endpoint, CancellationToken cancellationToken)
    {
        var partition = WebhookMessageRow.PartitionFor(endpoint.OrgId, endpoint.EndpointId);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {partition} and Status eq {DeliveryStatus.Pending}");
        await foreach (var row in Messages.QueryAsync<WebhookMessageRow>(filter, maxPerPage: 1, cancellationToken: cancellationToken))
        {
            return row;
        }

        return null;
    }

    private async Task<bool> IsHeadAsync(WebhookEndpointRow endpoint, WebhookMessageRow row, CancellationToken cancellationToken) =>
        (await HeadAsync(endpoint, cancellationToken))?.RowKey == row.RowKey;

    /// <summary>An ordered endpoint's next message, in event order, gets its first attempt once the one before it is settled.</summary>
    private async Task AdvanceOrderedAsync(WebhookEndpointRow endpoint, CancellationToken cancellationToken)
    {
        if (await HeadAsync(endpoint, cancellationToken) is { AttemptCount: 0 } head)
        {
            await ScheduleAsync(new WebhookDeliveryMessage(endpoint.OrgId, endpoint.EndpointId, head.DeliveryId, head.Round, 1), TimeSpan.Zero, cancellationToken);
        }
    }

    private Task ScheduleAsync(WebhookDeliveryMessage message, TimeSpan delay, CancellationToken cancellationToken) =>
        storage.Queue(queues.Deliveries).SendMessageAsync(
            JsonSerializer.Serialize(message, WebhookJson.DeliveryMessage), visibilityTimeout: delay > TimeSpan.Zero ? delay : null, cancellationToken: cancellationToken);

    [LoggerMessage(Level = LogLevel.Information, Message = "Webhook message {DeliveryId} to endpoint {EndpointId}, attempt {Attempt}: status {StatusCode}, error {ErrorKind}")]
    private static partial void LogAttempt(ILogger logger, string deliveryId, string endpointId, int attempt, int? statusCode, string? errorKind);

    [LoggerMessage(Level = LogLevel.Information, Message = "Recovery of webhook endpoint {EndpointId} re-sent {Count} failed messages")]
    private static partial void LogRecovered(ILogger logger, string endpointId, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook endpoint {EndpointId} of org {OrgId} disabled: every attempt failed since {FailingSince}")]
    private static partial void LogDisabled(ILogger logger, string endpointId, string orgId, DateTimeOffset failingSince);
}

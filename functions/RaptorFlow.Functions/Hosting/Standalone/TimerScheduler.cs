using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Cronos;
using Microsoft.Extensions.Options;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Hosting.Standalone;

/// <summary>The last and next occurrence of a timer, kept in a blob as the host keeps its schedule monitor.</summary>
public sealed record TimerScheduleStatus(DateTimeOffset? Last, DateTimeOffset? Next, DateTimeOffset? LastUpdated);

/// <summary>
/// Standalone stand-in for the Functions timer trigger: fires on the declared six-field CRON
/// schedule (UTC). Each occurrence fires once across all instances: the firing instance holds a
/// lease on the timer's status blob and records the occurrence there, so an instance that wins
/// the lease later sees it was already fired. A missed occurrence (the app was down) fires once
/// at start-up with <c>IsPastDue</c>.
/// </summary>
public sealed partial class TimerScheduler(
    FunctionDeclaration function,
    StorageAccount storage,
    FunctionInvoker invoker,
    StorageProvisioner provisioner,
    TimeProvider time,
    IOptions<StandaloneTriggerSettings> settings,
    ILogger<TimerScheduler> logger) : BackgroundService
{
    public const string StatusContainer = "function-timers";

    private static readonly JsonSerializerOptions StatusJson = new(JsonSerializerDefaults.Web) { TypeInfoResolver = TimerStatusJson.WithReflectionFallback };

    private static readonly TimeSpan MaxUnreachablePause = TimeSpan.FromSeconds(30);

    private readonly CronExpression _schedule = CronExpression.Parse(function.Schedule!, CronFormat.IncludeSeconds);

    public static BlobClient StatusBlob(StorageAccount storage, string functionName) =>
        storage.Container(StatusContainer).GetBlobClient($"{functionName}.json");

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await provisioner.WhenProvisioned.WaitAsync(stoppingToken);
        var blob = StatusBlob(storage, function.Name);

        var now = time.GetUtcNow();
        var status = await UntilReachableAsync(async () =>
        {
            await EnsureStatusBlobAsync(blob, stoppingToken);
            return await ReadStatusAsync(blob, stoppingToken);
        }, stoppingToken);
        if (function.RunOnStartup)
        {
            await FireWhenReachableAsync(blob, now, isPastDue: false, stoppingToken);
        }
        else if (status.Next is { } missed && missed < now)
        {
            await FireWhenReachableAsync(blob, missed, isPastDue: true, stoppingToken);
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            now = time.GetUtcNow();
            var next = _schedule.GetNextOccurrence(now.UtcDateTime, TimeZoneInfo.Utc);
            if (next is null)
            {
                return;
            }

            var occurrence = new DateTimeOffset(next.Value, TimeSpan.Zero);
            await Task.Delay(occurrence - now, time, stoppingToken);
            await FireWhenReachableAsync(blob, occurrence, isPastDue: time.GetUtcNow() - occurrence > TimeSpan.FromMinutes(1), stoppingToken);
        }
    }

    /// <summary>
    /// Fires an occurrence, retrying while storage cannot be reached (the lease and the status live
    /// there), so an outage delays the occurrence instead of ending the scheduler; fired late, it is past due.
    /// </summary>
    private Task FireWhenReachableAsync(BlobClient blob, DateTimeOffset occurrence, bool isPastDue, CancellationToken stoppingToken) =>
        UntilReachableAsync(async () =>
        {
            await EnsureStatusBlobAsync(blob, stoppingToken);
            return await FireAsync(blob, occurrence, isPastDue || time.GetUtcNow() - occurrence > TimeSpan.FromMinutes(1), stoppingToken);
        }, stoppingToken);

    private async Task<T> UntilReachableAsync<T>(Func<Task<T>> work, CancellationToken stoppingToken)
    {
        var pause = TimeSpan.FromSeconds(1);
        while (true)
        {
            try
            {
                return await work();
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                LogStorageUnreachable(logger, ex, function.Name, pause);
                await Task.Delay(pause, time, stoppingToken);
                pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, MaxUnreachablePause.Ticks));
            }
        }
    }

    /// <summary>Fires one occurrence unless another instance holds it or already fired it.</summary>
    public async Task<bool> FireAsync(BlobClient blob, DateTimeOffset occurrence, bool isPastDue, CancellationToken cancellationToken)
    {
        var lease = blob.GetBlobLeaseClient();
        try
        {
            await lease.AcquireAsync(settings.Value.TimerLeaseDuration, cancellationToken: cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            LogHeldElsewhere(logger, function.Name, occurrence);
            return false;
        }

        using var renewal = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var renewing = RenewAsync(lease, renewal.Token);
        try
        {
            var status = await ReadStatusAsync(blob, cancellationToken);
            if (status.Last is { } last && last >= occurrence)
            {
                return false;
            }

            var next = _schedule.GetNextOccurrence(occurrence.UtcDateTime, TimeZoneInfo.Utc) is { } n ? new DateTimeOffset(n, TimeSpan.Zero) : (DateTimeOffset?)null;
            try
            {
                await invoker.InvokeTimerAsync(function, new TimerTriggerInfo(isPastDue, status.Last, next, Guid.NewGuid().ToString()), cancellationToken);
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
            {
                // Logged by the invoker; like the host, the schedule moves on to the next occurrence.
            }

            var updated = new TimerScheduleStatus(occurrence, next, time.GetUtcNow());
            await blob.UploadAsync(BinaryData.FromObjectAsJson(updated, StatusJson),
                new BlobUploadOptions { Conditions = new BlobRequestConditions { LeaseId = lease.LeaseId } }, cancellationToken);
            return true;
        }
        finally
        {
            await renewal.CancelAsync();
            await renewing;
            try
            {
                await lease.ReleaseAsync(cancellationToken: CancellationToken.None);
            }
            catch (Exception ex) when (ex is RequestFailedException or AggregateException or HttpRequestException)
            {
                // Unreleased, the lease simply expires after its duration.
                LogReleaseFailed(logger, ex, function.Name);
            }
        }
    }

    public static async Task<TimerScheduleStatus> ReadStatusAsync(BlobClient blob, CancellationToken cancellationToken)
    {
        try
        {
            var content = await blob.DownloadContentAsync(cancellationToken);
            return content.Value.Content.ToMemory().Length == 0
                ? new TimerScheduleStatus(null, null, null)
                : content.Value.Content.ToObjectFromJson<TimerScheduleStatus>(StatusJson) ?? new TimerScheduleStatus(null, null, null);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return new TimerScheduleStatus(null, null, null);
        }
    }

    private static async Task EnsureStatusBlobAsync(BlobClient blob, CancellationToken cancellationToken)
    {
        try
        {
            await blob.UploadAsync(BinaryData.Empty, new BlobUploadOptions { Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All } }, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            // Already there, possibly leased by another instance.
        }
    }

    private async Task RenewAsync(BlobLeaseClient lease, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                await Task.Delay(settings.Value.TimerLeaseDuration / 2, time, cancellationToken);
                await lease.RenewAsync(cancellationToken: cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception ex) when (ex is RequestFailedException or AggregateException or HttpRequestException)
        {
            LogReleaseFailed(logger, ex, function.Name);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Timer {FunctionName} could not reach storage; trying again in {Pause}")]
    private static partial void LogStorageUnreachable(ILogger logger, Exception exception, string functionName, TimeSpan pause);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Timer {FunctionName} occurrence {Occurrence} is being fired by another instance")]
    private static partial void LogHeldElsewhere(ILogger logger, string functionName, DateTimeOffset occurrence);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Timer {FunctionName} lease could not be renewed or released")]
    private static partial void LogReleaseFailed(ILogger logger, Exception exception, string functionName);
}

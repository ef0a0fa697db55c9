using Azure;
using RaptorFlow.Functions.Platform.Lifetime;

namespace RaptorFlow.Functions.Platform.Storage;

/// <summary>
/// Creates every declared table, queue and container. Runs in the background once the server
/// has answered its first request (<see cref="FirstResponse"/>; without one, once it listens), off
/// the path to that response, or as soon as a storage call waits for it (<see cref="ProvisioningGate"/>),
/// and retries, so a storage outage at start-up shows in <c>/api/readyz</c> instead of crashing the process.
/// </summary>
public sealed partial class StorageProvisioner(
    StorageAccount storage,
    IEnumerable<StorageResource> resources,
    IHostApplicationLifetime lifetime,
    ILogger<StorageProvisioner> logger,
    FirstResponse? firstResponse = null,
    ProvisioningGate? gate = null) : BackgroundService
{
    private readonly TaskCompletionSource _provisioned = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool IsProvisioned => _provisioned.Task.IsCompletedSuccessfully;

    public Task WhenProvisioned => _provisioned.Task;

    /// <summary>The tables, queues and containers the app declares (infra/ declares the same).</summary>
    public IReadOnlyList<StorageResource> Resources { get; } = [.. resources.Distinct()];

    public async Task ProvisionAsync(CancellationToken cancellationToken)
    {
        ProvisioningGate.PassThrough();
        var work = Resources.Select(r => r.Kind switch
        {
            StorageResourceKind.Table => (Task)storage.Table(r.Name).CreateIfNotExistsAsync(cancellationToken),
            StorageResourceKind.Queue => storage.Queue(r.Name).CreateIfNotExistsAsync(cancellationToken: cancellationToken),
            _ => storage.Container(r.Name).CreateIfNotExistsAsync(cancellationToken: cancellationToken),
        });
        await Task.WhenAll(work);
        _provisioned.TrySetResult();
        gate?.Open();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using (var started = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken))
        {
            var normalStart = firstResponse?.WaitAsync(started.Token) ?? HostStarted.WaitAsync(lifetime, started.Token);
            await Task.WhenAny(normalStart, gate?.Wanted ?? Task.Delay(Timeout.Infinite, started.Token));
            await started.CancelAsync();
            stoppingToken.ThrowIfCancellationRequested();
        }

        var delay = TimeSpan.FromMilliseconds(250);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ProvisionAsync(stoppingToken);
                LogProvisioned(logger, Resources.Count);
                return;
            }
            catch (Exception ex) when (ex is RequestFailedException or HttpRequestException or AggregateException or TimeoutException)
            {
                LogProvisioningFailed(logger, ex, delay);
                await Task.Delay(delay, stoppingToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Storage provisioned: {Count} tables, queues and containers")]
    private static partial void LogProvisioned(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Storage provisioning failed; retrying in {Delay}")]
    private static partial void LogProvisioningFailed(ILogger logger, Exception exception, TimeSpan delay);
}

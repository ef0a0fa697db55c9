namespace RaptorFlow.Functions.Platform.Lifetime;

/// <summary>
/// Background duties (storage provisioning, and through it the standalone triggers) wait for the
/// server to listen before they start: on a small instance their first storage calls would
/// otherwise compete with the first request for the CPU while everything is still being compiled.
/// </summary>
public static class HostStarted
{
    /// <summary>Completes once every hosted service has started and the server is listening.</summary>
    public static Task WaitAsync(IHostApplicationLifetime lifetime, CancellationToken cancellationToken)
    {
        if (lifetime.ApplicationStarted.IsCancellationRequested)
        {
            return Task.CompletedTask;
        }

        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var registration = lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        return WaitAsync(started.Task, registration, cancellationToken);
    }

    private static async Task WaitAsync(Task started, CancellationTokenRegistration registration, CancellationToken cancellationToken)
    {
        await using (registration)
        {
            await started.WaitAsync(cancellationToken);
        }
    }
}

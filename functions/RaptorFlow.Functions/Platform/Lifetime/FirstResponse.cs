namespace RaptorFlow.Functions.Platform.Lifetime;

/// <summary>
/// Completes once the server has answered its first request (under the Functions host, the host's
/// readiness probe, which decides when the host starts sending work), or <see cref="Grace"/> after
/// it started listening when no request comes. Storage provisioning waits for it: its first storage
/// calls compile much of the storage SDK, and would otherwise slow that first answer.
/// </summary>
public sealed class FirstResponse(IHostApplicationLifetime lifetime, TimeProvider time)
{
    public static readonly TimeSpan Grace = TimeSpan.FromSeconds(2);

    private readonly TaskCompletionSource _answered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _watching;

    public bool IsAnswered => _answered.Task.IsCompleted;

    /// <summary>Called for each request; the first one's completed response completes the wait.</summary>
    public void Watch(HttpContext context)
    {
        if (Volatile.Read(ref _watching) == 0 && Interlocked.Exchange(ref _watching, 1) == 0)
        {
            context.Response.OnCompleted(() =>
            {
                _answered.TrySetResult();
                return Task.CompletedTask;
            });
        }
    }

    public async Task WaitAsync(CancellationToken cancellationToken)
    {
        await HostStarted.WaitAsync(lifetime, cancellationToken);
        using var grace = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var delay = Task.Delay(Grace, time, grace.Token);
        await Task.WhenAny(_answered.Task, delay);
        await grace.CancelAsync();
        cancellationToken.ThrowIfCancellationRequested();
    }
}

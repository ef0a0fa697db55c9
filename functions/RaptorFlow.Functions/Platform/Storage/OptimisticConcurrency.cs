using Azure;
using RaptorFlow.Functions.Platform.Telemetry;

namespace RaptorFlow.Functions.Platform.Storage;

/// <summary>
/// Read, decide, write with the ETag; on a lost race (412, or 409 when a row was added first) read
/// again and decide afresh, after a jittered back-off, up to the policy's limit.
/// </summary>
public static class OptimisticConcurrency
{
    /// <summary>
    /// Runs <paramref name="attempt"/> (given its number, from 1) until it decides. A 409/412 it
    /// throws, or <see cref="Attempt.LostRace{T}"/> it returns, is a lost race: retried until the
    /// policy's limit, then the exception is rethrown, or <paramref name="exhausted"/> gives the result.
    /// Any other exception is not retried. <paramref name="onRetry"/> sees each retry (the status,
    /// or null for a lost race without one) before the back-off.
    /// </summary>
    public static async Task<T> RunAsync<T>(
        ConcurrencyPolicy policy,
        Func<int, Task<Attempt<T>>> attempt,
        CancellationToken cancellationToken,
        Func<T>? exhausted = null,
        Action<int, int?>? onRetry = null,
        TimeProvider? time = null)
    {
        for (var number = 1; ; number++)
        {
            int? status;
            try
            {
                var outcome = await attempt(number);
                if (!outcome.Lost)
                {
                    return outcome.Value;
                }

                if (number >= policy.MaxAttempts)
                {
                    Conflict(policy, "exhausted");
                    return exhausted is not null
                        ? exhausted()
                        : throw new InvalidOperationException($"The row kept changing under {policy.MaxAttempts} attempts ({policy.Name} policy).");
                }

                status = null;
            }
            catch (RequestFailedException ex) when (IsLostRace(ex))
            {
                if (number >= policy.MaxAttempts)
                {
                    Conflict(policy, "exhausted");
                    throw;
                }

                status = ex.Status;
            }

            Conflict(policy, "retried");
            onRetry?.Invoke(number, status);
            // The back-off spreads the losers out; it is scheduling, not business time, so the system clock unless a test passes one.
            await Task.Delay(Backoff(number), time ?? TimeProvider.System, cancellationToken);
        }
    }

    /// <summary>For a round that returns nothing: true when it decided, false when it lost the race.</summary>
    public static Task RunAsync(
        ConcurrencyPolicy policy,
        Func<int, Task<bool>> attempt,
        CancellationToken cancellationToken,
        Action? exhausted = null,
        Action<int, int?>? onRetry = null,
        TimeProvider? time = null) =>
        RunAsync<bool>(
            policy,
            async number => await attempt(number) ? true : Attempt.LostRace<bool>(),
            cancellationToken,
            () =>
            {
                if (exhausted is null)
                {
                    throw new InvalidOperationException($"The row kept changing under {policy.MaxAttempts} attempts ({policy.Name} policy).");
                }

                exhausted();
                return false;
            },
            onRetry,
            time);

    private static void Conflict(ConcurrencyPolicy policy, string result) =>
        AppMetrics.ConcurrencyConflicts.Add(1,
            new KeyValuePair<string, object?>("policy", policy.Name),
            new KeyValuePair<string, object?>("result", result));

    /// <summary>412: the row moved since it was read. 409: a row this round adds was added by another first.</summary>
    public static bool IsLostRace(RequestFailedException ex) => ex.Status is 409 or 412;

    /// <summary>The one back-off: random up to a cap that grows with the attempt number, up to 160 ms.</summary>
    public static TimeSpan Backoff(int attempt) =>
        TimeSpan.FromMilliseconds(Random.Shared.Next(1, 10 + Math.Min(attempt, 10) * 15));
}

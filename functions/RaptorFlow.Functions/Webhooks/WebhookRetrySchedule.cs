namespace RaptorFlow.Functions.Webhooks;

/// <summary>
/// When each attempt runs: immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h after the
/// previous one (8 attempts over about 27.6 hours), each delay moved by up to ±10 % so endpoints
/// that failed together are not retried together.
/// </summary>
public static class WebhookRetrySchedule
{
    public const double Jitter = 0.10;

    /// <summary>The delay before attempt n (index n-1); the first attempt has none.</summary>
    public static readonly IReadOnlyList<TimeSpan> Delays =
    [
        TimeSpan.Zero,
        TimeSpan.FromSeconds(5),
        TimeSpan.FromMinutes(5),
        TimeSpan.FromMinutes(30),
        TimeSpan.FromHours(2),
        TimeSpan.FromHours(5),
        TimeSpan.FromHours(10),
        TimeSpan.FromHours(10),
    ];

    public static int MaxAttempts => Delays.Count;

    /// <summary>The delay before <paramref name="attempt"/> (from 2), jittered by <paramref name="unit"/> in [0, 1); null after the last.</summary>
    public static TimeSpan? DelayBefore(int attempt, double unit)
    {
        if (attempt < 1 || attempt > MaxAttempts)
        {
            return null;
        }

        var nominal = Delays[attempt - 1];
        return TimeSpan.FromTicks((long)(nominal.Ticks * (1 + (Jitter * ((2 * unit) - 1)))));
    }
}

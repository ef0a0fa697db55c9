using System.Collections.Concurrent;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace RaptorFlow.Functions.Webhooks;

/// <summary>
/// Per-endpoint token buckets (default <see cref="WebhookSettings.DefaultRateLimitPerSecond"/>/s),
/// so one org's burst cannot starve others. Held per instance: with n instances an endpoint may
/// receive up to n times its limit.
/// </summary>
public sealed class WebhookRateLimits(IOptions<WebhookSettings> settings)
{
    private readonly ConcurrentDictionary<string, (int Rate, TokenBucketRateLimiter Bucket)> _buckets = new(StringComparer.Ordinal);

    public bool TryAcquire(WebhookEndpointRow endpoint)
    {
        var rate = endpoint.RateLimitPerSecond ?? settings.Value.DefaultRateLimitPerSecond;
        var entry = _buckets.AddOrUpdate(
            endpoint.EndpointId,
            _ => (rate, Bucket(rate)),
            (_, existing) => existing.Rate == rate ? existing : (rate, Bucket(rate)));
        using var lease = entry.Bucket.AttemptAcquire();
        return lease.IsAcquired;
    }

    private static TokenBucketRateLimiter Bucket(int rate) => new(new TokenBucketRateLimiterOptions
    {
        TokenLimit = rate,
        TokensPerPeriod = rate,
        ReplenishmentPeriod = TimeSpan.FromSeconds(1),
        QueueLimit = 0,
        AutoReplenishment = true,
    });
}

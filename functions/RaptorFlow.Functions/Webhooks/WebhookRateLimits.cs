using Microsoft.Extensions.Options;
using RaptorFlow.Functions.Platform.RateLimiting;

namespace RaptorFlow.Functions.Webhooks;

/// <summary>
/// Per-endpoint send limits (<c>rateLimitPerSecond</c>, default <see cref="WebhookSettings.DefaultRateLimitPerSecond"/>),
/// so one org's burst cannot starve others and no receiver gets more than it asked for. They are the
/// API's shared buckets (<see cref="SharedRateLimits"/>) with a one-second window, so they hold across
/// every instance that shares the storage account. A limit that cannot be checked (storage unreachable
/// before this instance leased any of it) refuses: the send waits and is tried again, where the API admits.
/// </summary>
public sealed class WebhookRateLimits(SharedRateLimits limits, IOptions<WebhookSettings> settings)
{
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(1);

    public async ValueTask<bool> TryAcquireAsync(WebhookEndpointRow endpoint, CancellationToken cancellationToken)
    {
        var rate = endpoint.RateLimitPerSecond ?? settings.Value.DefaultRateLimitPerSecond;
        RequestLimit[] limit = [new(NameOf(endpoint), rate, Window)];
        return (await limits.TryTakeAllAsync(limit, cancellationToken, UnknownLimit.Refuse)).Allowed;
    }

    /// <summary>The shared bucket's name of an endpoint.</summary>
    public static string NameOf(WebhookEndpointRow endpoint) => $"webhook:{endpoint.OrgId}:{endpoint.EndpointId}";
}

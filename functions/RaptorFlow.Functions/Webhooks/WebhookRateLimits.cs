using Microsoft.Extensions.Options;
using RaptorFlow.Functions.Platform.RateLimiting;
using RaptorFlow.Functions.Platform.Storage;
using RaptorFlow.Functions.Privacy;

namespace RaptorFlow.Functions.Webhooks;

/// <summary>
/// Per-endpoint send limits (<c>rateLimitPerSecond</c>, default <see cref="WebhookSettings.DefaultRateLimitPerSecond"/>),
/// so one org's burst cannot starve others and no receiver gets more than it asked for. They are the
/// API's shared buckets (<see cref="SharedRateLimits"/>) with a one-second window, so they hold across
/// every instance that shares the storage account. A limit that cannot be checked (storage unreachable
/// before this instance leased any of it) refuses: the send waits and is tried again, where the API admits.
/// A send that would lease from storage first checks the org's purge has not begun, so a delivery that
/// read its endpoint before the purge does not bring the bucket back behind it.
/// </summary>
public sealed class WebhookRateLimits(SharedRateLimits limits, OrgPurgeSchedule purges, IOptions<WebhookSettings> settings)
{
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(1);

    public async ValueTask<bool> TryAcquireAsync(WebhookEndpointRow endpoint, CancellationToken cancellationToken)
    {
        var rate = endpoint.RateLimitPerSecond ?? settings.Value.DefaultRateLimitPerSecond;
        RequestLimit[] limit = [new(NameOf(endpoint), rate, Window)];
        if (limits.TokensHeld(limit[0].Name) == 0 && await IsPurgedAsync(endpoint.OrgId, cancellationToken))
        {
            // Refused: the retry finds the endpoint gone.
            return false;
        }

        return (await limits.TryTakeAllAsync(limit, cancellationToken, UnknownLimit.Refuse)).Allowed;
    }

    private async Task<bool> IsPurgedAsync(string orgId, CancellationToken cancellationToken)
    {
        try
        {
            return await purges.IsPurgedAsync(orgId, cancellationToken);
        }
        catch (Exception ex) when (StorageUnavailable.Is(ex) && !cancellationToken.IsCancellationRequested)
        {
            // Unknown; the lease cannot be made either, and refuses.
            return false;
        }
    }

    /// <summary>The shared bucket's name of an endpoint.</summary>
    public static string NameOf(WebhookEndpointRow endpoint) => $"webhook:{endpoint.OrgId}:{endpoint.EndpointId}";
}

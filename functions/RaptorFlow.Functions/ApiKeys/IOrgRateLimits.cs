namespace RaptorFlow.Functions.ApiKeys;

/// <summary>
/// An org's API requests per minute: the limit of its plan. Read when a key is verified from
/// storage and cached with it, so it costs nothing on the hot path.
/// </summary>
public interface IOrgRateLimits
{
    Task<int> PerMinuteAsync(string orgId, CancellationToken cancellationToken);
}

using RaptorFlow.Functions.Platform.Access;
using RaptorFlow.Functions.Platform.RateLimiting;

namespace RaptorFlow.Functions.ApiKeys;

/// <summary>A key's request spends a token of the key's limit and one of its org's (the plan's), both shared across instances.</summary>
public sealed class KeyLimits : IRequestLimits
{
    public void Collect(HttpContext context, Caller? caller, OrgAccess? access, List<RequestLimit> limits)
    {
        if (caller?.Kind == CallerKind.ApiKey && context.Features.Get<VerifiedKey>() is { } key)
        {
            limits.Add(new RequestLimit(key.KeyBucket, key.KeyRateLimitPerMinute));
            limits.Add(new RequestLimit(key.OrgBucket, key.OrgRateLimitPerMinute));
        }
    }
}

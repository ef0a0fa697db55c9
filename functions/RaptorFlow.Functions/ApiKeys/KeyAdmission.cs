using System.Globalization;
using RaptorFlow.Functions.Platform.Access;
using RaptorFlow.Functions.Platform.Problems;
using RaptorFlow.Functions.Platform.Telemetry;
using RaptorFlow.Functions.Usage;

namespace RaptorFlow.Functions.ApiKeys;

/// <summary>
/// What a key's request must still pass once its capability is checked and its org resolved, in
/// this order: the client address inside the key's <c>allowedCidrs</c> (else 403
/// <c>api_key.ip_not_allowed</c>), a token from the key's and the org's buckets (else 429 with
/// <c>Retry-After</c>), and then it is metered. A request refused before, as forbidden or not
/// found, spends no token and is not counted.
/// </summary>
public sealed partial class KeyAdmission(TokenBuckets buckets, IUsageMeter usage, ClientAddressResolver clientAddress, ILogger<KeyAdmission> logger)
    : IRequestAdmission
{
    public async ValueTask<bool> AdmitAsync(HttpContext context, Caller caller, OrgAccess? access)
    {
        if (caller.Kind != CallerKind.ApiKey || context.Features.Get<VerifiedKey>() is not { } key)
        {
            return true;
        }

        if (!IsFromAllowedAddress(context, key))
        {
            AppMetrics.Count(AppMetrics.ApiKeyVerifications, "outcome", "ip_not_allowed");
            await ApiProblem.WriteAsync(context, StatusCodes.Status403Forbidden, "api_key.ip_not_allowed", "Forbidden.",
                "This API key may not be used from the request's address.");
            return false;
        }

        var decision = buckets.TryTakeAll([(key.KeyBucket, key.KeyRateLimitPerMinute), (key.OrgBucket, key.OrgRateLimitPerMinute)]);
        WriteRateLimitHeaders(context.Response.Headers, decision);
        if (!decision.Allowed)
        {
            LogRateLimited(logger, key.KeyId, key.OrgId);
            AppMetrics.Count(AppMetrics.ApiKeyVerifications, "outcome", "rate_limited");
            context.Response.Headers.RetryAfter = Seconds(decision.RetryAfter);
            await ApiProblem.WriteAsync(context, StatusCodes.Status429TooManyRequests, "rate_limit.exceeded", "Too many requests.",
                $"The rate limit of {decision.Limit} requests per minute is used up; retry after the time in Retry-After.");
            return false;
        }

        // Metered in memory; the meter flushes usage events in the background, never per request.
        usage.Count(key.OrgId, Meters.ApiCalls);
        AppMetrics.Count(AppMetrics.ApiKeyVerifications, "outcome", "ok");
        return true;
    }

    private bool IsFromAllowedAddress(HttpContext context, VerifiedKey key)
    {
        if (key.AllowedCidrs.Count == 0)
        {
            return true;
        }

        var address = clientAddress.Of(context);
        if (address is not null && key.AllowedCidrs.Any(block => block.Contains(address)))
        {
            return true;
        }

        LogAddressRefused(logger, key.KeyId, address?.ToString() ?? "unknown");
        return false;
    }

    /// <summary>The IETF RateLimit header fields, for the tighter of the key's and the org's limits.</summary>
    private static void WriteRateLimitHeaders(IHeaderDictionary headers, RateLimitDecision decision)
    {
        headers["RateLimit-Limit"] = decision.Limit.ToString(CultureInfo.InvariantCulture);
        headers["RateLimit-Remaining"] = decision.Remaining.ToString(CultureInfo.InvariantCulture);
        headers["RateLimit-Reset"] = Seconds(decision.ResetAfter);
        headers["RateLimit-Policy"] = string.Create(CultureInfo.InvariantCulture, $"{decision.Limit};w=60");
    }

    private static string Seconds(TimeSpan span) => ((long)Math.Ceiling(span.TotalSeconds)).ToString(CultureInfo.InvariantCulture);

    [LoggerMessage(Level = LogLevel.Information, Message = "API key {KeyId} refused from address {Address}: outside its allowed CIDRs")]
    private static partial void LogAddressRefused(ILogger logger, string keyId, string address);

    [LoggerMessage(Level = LogLevel.Information, Message = "API key {KeyId} of org {OrgId} rate limited")]
    private static partial void LogRateLimited(ILogger logger, string keyId, string orgId);
}

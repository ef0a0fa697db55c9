using System.Globalization;
using RaptorFlow.Functions.Platform.Access;
using RaptorFlow.Functions.Platform.Problems;
using RaptorFlow.Functions.Platform.Telemetry;

namespace RaptorFlow.Functions.Platform.RateLimiting;

/// <summary>
/// The one place a request is rate limited, after authentication said who calls and capability
/// enforcement let it through (so a request refused as forbidden or not found spends no token): a
/// token from every budget the <see cref="IRequestLimits"/> name, or a 429 <c>rate_limit.exceeded</c>
/// with <c>Retry-After</c>. Every decision carries the IETF <c>RateLimit-*</c> fields of the tightest budget.
/// </summary>
public sealed partial class RateLimitAdmission(SharedRateLimits limits, IEnumerable<IRequestLimits> sources, ILogger<RateLimitAdmission> logger)
    : IRequestAdmission
{
    public const string Code = "rate_limit.exceeded";

    private readonly IRequestLimits[] _sources = [.. sources];

    public AdmissionStage Stage => AdmissionStage.Limits;

    public async ValueTask<bool> AdmitAsync(HttpContext context, Caller? caller, OrgAccess? access)
    {
        var named = new List<RequestLimit>(4);
        foreach (var source in _sources)
        {
            source.Collect(context, caller, access, named);
        }

        if (named.Count == 0)
        {
            return true;
        }

        var decision = await limits.TryTakeAllAsync(named, context.RequestAborted);
        WriteHeaders(context.Response.Headers, decision);
        if (decision.Allowed)
        {
            return true;
        }

        LogRateLimited(logger, caller?.Reference ?? "anonymous", context.Request.Path);
        if (caller?.Kind == CallerKind.ApiKey)
        {
            AppMetrics.Count(AppMetrics.ApiKeyVerifications, "outcome", "rate_limited");
        }

        context.Response.Headers.RetryAfter = Seconds(decision.RetryAfter);
        await ApiProblem.WriteAsync(context, StatusCodes.Status429TooManyRequests, Code, "Too many requests.",
            $"The rate limit of {decision.Limit} requests per minute is used up; retry after the time in Retry-After.");
        return false;
    }

    /// <summary>The IETF RateLimit header fields, for the tightest of the request's limits.</summary>
    private static void WriteHeaders(IHeaderDictionary headers, RateLimitDecision decision)
    {
        headers["RateLimit-Limit"] = decision.Limit.ToString(CultureInfo.InvariantCulture);
        headers["RateLimit-Remaining"] = decision.Remaining.ToString(CultureInfo.InvariantCulture);
        headers["RateLimit-Reset"] = Seconds(decision.ResetAfter);
        headers["RateLimit-Policy"] = string.Create(CultureInfo.InvariantCulture, $"{decision.Limit};w=60");
    }

    private static string Seconds(TimeSpan span) => ((long)Math.Ceiling(span.TotalSeconds)).ToString(CultureInfo.InvariantCulture);

    [LoggerMessage(Level = LogLevel.Information, Message = "Rate limited {Caller} at {Path}")]
    private static partial void LogRateLimited(ILogger logger, string caller, string path);
}

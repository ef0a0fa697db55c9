using System.Globalization;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using RaptorFlow.Functions.Platform.Access;
using RaptorFlow.Functions.Platform.Problems;
using RaptorFlow.Functions.Usage;

namespace RaptorFlow.Functions.ApiKeys;

/// <summary>
/// The <c>ApiKey</c> scheme: a key from <c>X-Api-Key</c> or <c>Authorization: Bearer rf_…</c>
/// becomes a caller bound to the key's org and capabilities, once the key is verified, the client
/// address is inside the key's <c>allowedCidrs</c>, and the key's and the org's token buckets each
/// yield a token. A refusal is answered by the challenge: 401, 403 <c>api_key.ip_not_allowed</c>
/// or 429 with <c>Retry-After</c>.
/// </summary>
public sealed partial class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    ApiKeyVerifier verifier,
    TokenBuckets buckets,
    IUsageMeter usage,
    ClientAddressResolver clientAddress) : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    private static readonly object RejectionKey = new();

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!TryReadKey(Request.Headers, out var presented))
        {
            return Reject(new Rejection(ApiKeyOutcome.Malformed));
        }

        var check = await verifier.VerifyAsync(presented, Context.RequestAborted);
        if (check.Outcome != ApiKeyOutcome.Valid)
        {
            return Reject(new Rejection(check.Outcome));
        }

        var key = check.Key!;
        if (key.AllowedCidrs.Count > 0)
        {
            var address = clientAddress.Of(Context);
            if (address is null || !key.AllowedCidrs.Any(block => block.Contains(address)))
            {
                LogAddressRefused(Logger, key.KeyId, address?.ToString() ?? "unknown");
                return Reject(new Rejection(ApiKeyOutcome.Valid, IpNotAllowed: true));
            }
        }

        var decision = buckets.TryTakeAll([(key.KeyBucket, key.KeyRateLimitPerMinute), (key.OrgBucket, key.OrgRateLimitPerMinute)]);
        WriteRateLimitHeaders(Response.Headers, decision);
        if (!decision.Allowed)
        {
            LogRateLimited(Logger, key.KeyId, key.OrgId);
            return Reject(new Rejection(ApiKeyOutcome.Valid, RateLimited: decision));
        }

        // Metered in memory; the meter flushes usage events in the background, never per request.
        usage.Count(key.OrgId, Meters.ApiCalls);

        var identity = new ClaimsIdentity(AccessRegistration.ApiKeyScheme, "name", null);
        identity.AddClaim(new Claim(CallerClaims.Kind, CallerClaims.ApiKeyKind));
        identity.AddClaim(new Claim(CallerClaims.KeyId, key.KeyId));
        identity.AddClaim(new Claim(CallerClaims.OrgId, key.OrgId));
        identity.AddClaim(new Claim("name", key.Name));
        foreach (var capability in key.Capabilities)
        {
            identity.AddClaim(new Claim(CallerClaims.Capability, capability));
        }

        Context.SetCaller(key.Caller);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), AccessRegistration.ApiKeyScheme));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var rejection = Context.Items.TryGetValue(RejectionKey, out var value) && value is Rejection r ? r : new Rejection(ApiKeyOutcome.Malformed);
        if (rejection.IpNotAllowed)
        {
            return ApiProblem.WriteAsync(Context, StatusCodes.Status403Forbidden, "api_key.ip_not_allowed", "Forbidden.",
                "This API key may not be used from the request's address.");
        }

        if (rejection.RateLimited is { } decision)
        {
            Response.Headers.RetryAfter = Seconds(decision.RetryAfter);
            return ApiProblem.WriteAsync(Context, StatusCodes.Status429TooManyRequests, "rate_limit.exceeded", "Too many requests.",
                $"The rate limit of {decision.Limit} requests per minute is used up; retry after the time in Retry-After.");
        }

        Response.Headers.WWWAuthenticate = "Bearer error=\"invalid_token\"";
        var (code, detail) = rejection.Outcome switch
        {
            ApiKeyOutcome.Revoked => ("api_key.revoked", "This API key was revoked."),
            ApiKeyOutcome.Expired => ("api_key.expired", "This API key has expired."),
            ApiKeyOutcome.OrgDeleted => ("api_key.org_deleted", "The organization of this API key was deleted."),
            ApiKeyOutcome.Unknown => ("api_key.unknown", "This API key is not known."),
            _ => ("api_key.malformed", "The API key is not well formed; check that it was copied whole."),
        };
        return ApiProblem.WriteAsync(Context, StatusCodes.Status401Unauthorized, code, "Unauthorized.", detail);
    }

    /// <summary><c>X-Api-Key</c> wins; both headers with different keys, or several values, is malformed.</summary>
    private static bool TryReadKey(IHeaderDictionary headers, out string presented)
    {
        presented = "";
        var fromHeader = headers[AccessRegistration.ApiKeyHeader];
        string? bearer = null;
        var authorization = headers.Authorization;
        if (authorization.Count == 1 && authorization[0] is { } auth && auth.StartsWith("Bearer " + AccessRegistration.ApiKeyBearerPrefix, StringComparison.Ordinal))
        {
            bearer = auth["Bearer ".Length..].Trim();
        }

        if (fromHeader.Count > 1 || (fromHeader.Count == 1 && bearer is not null && fromHeader[0] != bearer))
        {
            return false;
        }

        presented = (fromHeader.Count == 1 ? fromHeader[0]?.Trim() : bearer) ?? "";
        return presented.Length > 0;
    }

    private AuthenticateResult Reject(Rejection rejection)
    {
        Context.Items[RejectionKey] = rejection;
        return AuthenticateResult.Fail(rejection.IpNotAllowed ? "api_key.ip_not_allowed" : rejection.RateLimited is not null ? "rate_limit.exceeded" : "api_key.invalid");
    }

    /// <summary>The IETF RateLimit header fields, for the tighter of the key's and the org's limits.</summary>
    internal static void WriteRateLimitHeaders(IHeaderDictionary headers, RateLimitDecision decision)
    {
        headers["RateLimit-Limit"] = decision.Limit.ToString(CultureInfo.InvariantCulture);
        headers["RateLimit-Remaining"] = decision.Remaining.ToString(CultureInfo.InvariantCulture);
        headers["RateLimit-Reset"] = Seconds(decision.ResetAfter);
        headers["RateLimit-Policy"] = string.Create(CultureInfo.InvariantCulture, $"{decision.Limit};w=60");
    }

    private static string Seconds(TimeSpan span) => ((long)Math.Ceiling(span.TotalSeconds)).ToString(CultureInfo.InvariantCulture);

    private sealed record Rejection(ApiKeyOutcome Outcome, bool IpNotAllowed = false, RateLimitDecision? RateLimited = null);

    [LoggerMessage(Level = LogLevel.Information, Message = "API key {KeyId} refused from address {Address}: outside its allowed CIDRs")]
    private static partial void LogAddressRefused(ILogger logger, string keyId, string address);

    [LoggerMessage(Level = LogLevel.Information, Message = "API key {KeyId} of org {OrgId} rate limited")]
    private static partial void LogRateLimited(ILogger logger, string keyId, string orgId);
}

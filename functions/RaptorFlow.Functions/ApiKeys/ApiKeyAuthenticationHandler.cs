using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using RaptorFlow.Functions.Platform.Access;
using RaptorFlow.Functions.Platform.Problems;
using RaptorFlow.Functions.Platform.Telemetry;

namespace RaptorFlow.Functions.ApiKeys;

/// <summary>
/// The <c>ApiKey</c> scheme: a key from <c>X-Api-Key</c> or <c>Authorization: Bearer rf_…</c>
/// becomes the caller the verified key stands for, bound to the key's org and capabilities. It
/// only says who calls: address rules, rate limits and metering are <see cref="KeyAdmission"/>'s,
/// once the endpoint's capability is checked. A key that does not verify is challenged with 401.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    ApiKeyVerifier verifier) : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    private static readonly object RejectionKey = new();

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!TryReadKey(Request.Headers, out var presented))
        {
            return Reject(ApiKeyOutcome.Malformed);
        }

        var check = await verifier.VerifyAsync(presented, Context.RequestAborted);
        if (check.Key is not { } key)
        {
            return Reject(check.Outcome);
        }

        Context.Features.Set(key);
        var principal = new ClaimsPrincipal(new CallerIdentity(key.Caller, AccessRegistration.ApiKeyScheme));
        return AuthenticateResult.Success(new AuthenticationTicket(principal, AccessRegistration.ApiKeyScheme));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var outcome = Context.Items.TryGetValue(RejectionKey, out var value) && value is ApiKeyOutcome o ? o : ApiKeyOutcome.Malformed;
        Response.Headers.WWWAuthenticate = "Bearer error=\"invalid_token\"";
        var (code, detail) = outcome switch
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

    private AuthenticateResult Reject(ApiKeyOutcome outcome)
    {
        AppMetrics.Count(AppMetrics.ApiKeyVerifications, "outcome", outcome switch
        {
            ApiKeyOutcome.Revoked => "revoked",
            ApiKeyOutcome.Expired => "expired",
            ApiKeyOutcome.OrgDeleted => "org_deleted",
            _ => "invalid",
        });
        Context.Items[RejectionKey] = outcome;
        return AuthenticateResult.Fail("api_key.invalid");
    }
}

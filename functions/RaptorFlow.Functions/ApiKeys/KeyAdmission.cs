using RaptorFlow.Functions.Platform.Access;
using RaptorFlow.Functions.Platform.Problems;
using RaptorFlow.Functions.Platform.Telemetry;

namespace RaptorFlow.Functions.ApiKeys;

/// <summary>
/// A key's address rule, checked once its capability is checked and its org resolved: the client
/// address must be inside the key's <c>allowedCidrs</c> (else 403 <c>api_key.ip_not_allowed</c>).
/// It runs before the rate limits, so a refused request spends no token; <see cref="KeyLimits"/>
/// names the key's budgets and <see cref="KeyMetering"/> counts what the limits let through.
/// </summary>
public sealed partial class KeyAdmission(ClientAddressResolver clientAddress, ILogger<KeyAdmission> logger) : IRequestAdmission
{
    public AdmissionStage Stage => AdmissionStage.Rules;

    public async ValueTask<bool> AdmitAsync(HttpContext context, Caller? caller, OrgAccess? access)
    {
        if (caller?.Kind != CallerKind.ApiKey || context.Features.Get<VerifiedKey>() is not { } key || IsFromAllowedAddress(context, key))
        {
            return true;
        }

        AppMetrics.Count(AppMetrics.ApiKeyVerifications, "outcome", "ip_not_allowed");
        await ApiProblem.WriteAsync(context, StatusCodes.Status403Forbidden, "api_key.ip_not_allowed", "Forbidden.",
            "This API key may not be used from the request's address.");
        return false;
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

    [LoggerMessage(Level = LogLevel.Information, Message = "API key {KeyId} refused from address {Address}: outside its allowed CIDRs")]
    private static partial void LogAddressRefused(ILogger logger, string keyId, string address);
}

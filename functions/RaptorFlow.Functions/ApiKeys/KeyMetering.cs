using RaptorFlow.Functions.Platform.Access;
using RaptorFlow.Functions.Platform.Telemetry;
using RaptorFlow.Functions.Usage;

namespace RaptorFlow.Functions.ApiKeys;

/// <summary>Meters a key's request once the rate limits let it through; a refused one is not counted.</summary>
public sealed class KeyMetering(IUsageMeter usage) : IRequestAdmission
{
    public AdmissionStage Stage => AdmissionStage.Metering;

    public ValueTask<bool> AdmitAsync(HttpContext context, Caller? caller, OrgAccess? access)
    {
        if (caller?.Kind == CallerKind.ApiKey && context.Features.Get<VerifiedKey>() is { } key)
        {
            // Metered in memory; the meter flushes usage events in the background, never per request.
            usage.Count(key.OrgId, Meters.ApiCalls);
            AppMetrics.Count(AppMetrics.ApiKeyVerifications, "outcome", "ok");
        }

        return ValueTask.FromResult(true);
    }
}

namespace RaptorFlow.Functions.Platform.Access;

/// <summary>
/// What still applies to a request once its caller holds the endpoint's capability (and, on an
/// <c>{orgId}</c> route, the org is resolved), or once a public endpoint is reached: rules that may
/// refuse it, the rate limits, and metering of what is let through. Run by capability enforcement,
/// by <see cref="Stage"/>, so a request refused as unauthenticated, forbidden or not found never reaches one.
/// </summary>
public interface IRequestAdmission
{
    AdmissionStage Stage { get; }

    /// <summary>
    /// True to let the request through; false when this admission has written the refusal.
    /// <paramref name="caller"/> is null on a public endpoint, which does not ask who calls.
    /// </summary>
    ValueTask<bool> AdmitAsync(HttpContext context, Caller? caller, OrgAccess? access);
}

/// <summary>The order admissions run in: a request refused by a rule spends no rate-limit token, and a limited one is not metered.</summary>
public enum AdmissionStage
{
    Rules,
    Limits,
    Metering,
}

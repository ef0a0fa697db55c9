namespace RaptorFlow.Functions.Platform.Access;

/// <summary>
/// What still applies to a request once its caller holds the endpoint's capability (and, on an
/// <c>{orgId}</c> route, the org is resolved): limits that may refuse it, and metering of what is
/// let through. Run by capability enforcement, in registration order, so a request refused as
/// unauthenticated, forbidden or not found never reaches one.
/// </summary>
public interface IRequestAdmission
{
    /// <summary>True to let the request through; false when this admission has written the refusal.</summary>
    ValueTask<bool> AdmitAsync(HttpContext context, Caller caller, OrgAccess? access);
}

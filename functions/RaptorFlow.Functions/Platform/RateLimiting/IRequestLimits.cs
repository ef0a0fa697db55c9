using RaptorFlow.Functions.Platform.Access;

namespace RaptorFlow.Functions.Platform.RateLimiting;

/// <summary>
/// Names the budgets a request spends, from who calls (as authentication found) and where: a key and
/// its org, a user and the org of the route, the client address on an anonymous route. The decision
/// itself is made once, by <see cref="RateLimitAdmission"/>, over all of them.
/// </summary>
public interface IRequestLimits
{
    void Collect(HttpContext context, Caller? caller, OrgAccess? access, List<RequestLimit> limits);
}

using Microsoft.AspNetCore.Authentication;
using RaptorFlow.Functions.Platform.Ids;
using RaptorFlow.Functions.Platform.Problems;

namespace RaptorFlow.Functions.Platform.Access;

/// <summary>
/// Enforces <see cref="RequiredCapability"/>; runs after authentication and authorization. A caller
/// who holds the capability then passes each <see cref="IRequestAdmission"/>, so limits and
/// metering see only requests that were otherwise allowed.
/// </summary>
/// <remarks>The collaborators are singletons, taken in the constructor: services as parameters of
/// <c>InvokeAsync</c> make the pipeline compile an expression for this middleware at every start.</remarks>
public sealed class CapabilityEnforcement(
    RequestDelegate next, IOrgAccessResolver resolver, PlatformAdmins admins, IEnumerable<IRequestAdmission> admissions)
{
    private readonly IRequestAdmission[] _admissions = [.. admissions.OrderBy(a => a.Stage)];

    public async Task InvokeAsync(HttpContext context)
    {
        var endpoint = context.GetEndpoint();
        var required = endpoint?.Metadata.GetMetadata<RequiredCapability>();
        if (required is null)
        {
            // A public endpoint asks no caller, but still passes the admissions (its client address may be limited).
            if (endpoint?.Metadata.GetMetadata<PublicEndpoint>() is null || await AdmitAsync(context, null, null))
            {
                await next(context);
            }

            return;
        }

        var caller = context.FindCaller();
        if (caller is null)
        {
            // Authenticated by some scheme but not as a user or key we know: treat as no credentials.
            await context.ChallengeAsync();
            return;
        }

        OrgAccess? access = null;
        IReadOnlySet<string> capabilities;
        if (context.Request.RouteValues.TryGetValue(CapabilityEndpointExtensions.OrgIdRouteValue, out var raw) && raw is string orgId)
        {
            access = IdGenerator.IsWellFormed(orgId, "org")
                ? await resolver.ResolveAsync(caller, orgId, endpoint!.Metadata.GetMetadata<ReachesDeletedOrg>() is not null, context.RequestAborted)
                : null;
            if (access is null)
            {
                await ApiProblem.WriteAsync(context, StatusCodes.Status404NotFound, "org.not_found", "Not found.",
                    "No organization with this id is visible to the caller.");
                return;
            }

            context.SetOrgAccess(access);
            capabilities = access.Capabilities;
        }
        else
        {
            capabilities = caller.IsUser ? Capability.Personal : caller.KeyCapabilities;
        }

        if (!capabilities.Contains(required.Name) && !(required.Name == Capability.PlatformAdmin && admins.Contains(caller)))
        {
            await ApiProblem.WriteAsync(context, StatusCodes.Status403Forbidden, "auth.capability_missing", "Forbidden.",
                $"This operation needs the '{required.Name}' capability, which the caller does not have here.");
            return;
        }

        if (await AdmitAsync(context, caller, access))
        {
            await next(context);
        }
    }

    private async ValueTask<bool> AdmitAsync(HttpContext context, Caller? caller, OrgAccess? access)
    {
        foreach (var admission in _admissions)
        {
            if (!await admission.AdmitAsync(context, caller, access))
            {
                return false;
            }
        }

        return true;
    }
}

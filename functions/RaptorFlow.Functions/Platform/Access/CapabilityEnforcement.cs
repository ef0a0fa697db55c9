using Microsoft.AspNetCore.Authentication;
using RaptorFlow.Functions.Platform.Ids;
using RaptorFlow.Functions.Platform.Problems;

namespace RaptorFlow.Functions.Platform.Access;

/// <summary>Endpoint metadata: the capability an endpoint needs.</summary>
public sealed record RequiredCapability(string Name);

/// <summary>Endpoint metadata: the endpoint is deliberately reachable without a caller.</summary>
public sealed record PublicEndpoint(string Reason);

/// <summary>What a caller may do inside one org, resolved per request.</summary>
public sealed record OrgAccess(string OrgId, Role? Role, IReadOnlySet<string> Capabilities)
{
    /// <summary>
    /// The org's record as the resolver read it for this request, so an endpoint about the org
    /// itself answers from it instead of reading the same row again. It lives as long as the
    /// request; nothing keeps it beyond.
    /// </summary>
    public IOrgRecord? Org { get; init; }
}

/// <summary>
/// Resolves a caller's access in an org: a user through membership, a key only in its own org.
/// Null when the org is unknown, deleted, or not the caller's, which the API answers with 404.
/// </summary>
public interface IOrgAccessResolver
{
    Task<OrgAccess?> ResolveAsync(Caller caller, string orgId, CancellationToken cancellationToken);
}

public static class CapabilityEndpointExtensions
{
    public const string OrgIdRouteValue = "orgId";
    private static readonly object OrgAccessKey = new();

    /// <summary>
    /// Requires an authenticated caller holding <paramref name="capability"/>: in the route's
    /// <c>{orgId}</c> when it has one (a stranger to the org gets 404), otherwise among the caller's own.
    /// </summary>
    public static TBuilder RequireCapability<TBuilder>(this TBuilder builder, string capability)
        where TBuilder : IEndpointConventionBuilder
    {
        if (!Capability.IsKnown(capability))
        {
            throw new ArgumentException($"'{capability}' is not in the capability catalog.", nameof(capability));
        }

        builder.RequireAuthorization();
        builder.WithMetadata(new RequiredCapability(capability));
        builder.WithMetadata(new Microsoft.AspNetCore.Mvc.ProducesResponseTypeAttribute(typeof(Microsoft.AspNetCore.Mvc.ProblemDetails), StatusCodes.Status401Unauthorized, "application/problem+json"));
        builder.WithMetadata(new Microsoft.AspNetCore.Mvc.ProducesResponseTypeAttribute(typeof(Microsoft.AspNetCore.Mvc.ProblemDetails), StatusCodes.Status403Forbidden, "application/problem+json"));
        return builder;
    }

    /// <summary>Marks an endpoint as reachable without authentication, saying why.</summary>
    public static TBuilder IsPublic<TBuilder>(this TBuilder builder, string reason)
        where TBuilder : IEndpointConventionBuilder =>
        builder.AllowAnonymous().WithMetadata(new PublicEndpoint(reason));

    /// <summary>The caller's access in the route's org, set by capability enforcement.</summary>
    public static OrgAccess GetOrgAccess(this HttpContext context) =>
        context.Items.TryGetValue(OrgAccessKey, out var value) && value is OrgAccess access
            ? access
            : throw new InvalidOperationException("The endpoint has no {orgId} capability; org access was not resolved.");

    /// <summary>
    /// The org record the access check read in this request, when it read one of type
    /// <typeparamref name="TOrg"/>; null on routes without <c>{orgId}</c>.
    /// </summary>
    public static TOrg? OrgReadByAccessCheck<TOrg>(this HttpContext context)
        where TOrg : class, IOrgRecord =>
        context.Items.TryGetValue(OrgAccessKey, out var value) && value is OrgAccess { Org: TOrg org } ? org : null;

    internal static void SetOrgAccess(this HttpContext context, OrgAccess access) => context.Items[OrgAccessKey] = access;
}

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
    private readonly IRequestAdmission[] _admissions = [.. admissions];

    public async Task InvokeAsync(HttpContext context)
    {
        var required = context.GetEndpoint()?.Metadata.GetMetadata<RequiredCapability>();
        if (required is null)
        {
            await next(context);
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
                ? await resolver.ResolveAsync(caller, orgId, context.RequestAborted)
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

        foreach (var admission in _admissions)
        {
            if (!await admission.AdmitAsync(context, caller, access))
            {
                return;
            }
        }

        await next(context);
    }
}

/// <summary>The users granted <c>platform:admin</c> by configuration (<c>Auth:PlatformAdmins</c>).</summary>
public sealed class PlatformAdmins(Microsoft.Extensions.Options.IOptions<AuthSettings> settings)
{
    private readonly HashSet<string> _ids = new(settings.Value.PlatformAdmins.Where(s => !string.IsNullOrWhiteSpace(s)), StringComparer.Ordinal);

    public bool Contains(Caller caller) => caller.IsUser && _ids.Contains(caller.Id);
}

namespace RaptorFlow.Functions.Platform.Access;

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

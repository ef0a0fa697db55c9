using RaptorFlow.Functions.Platform.Access;

namespace RaptorFlow.Functions.Stats;

public static class StatsApi
{
    public static IEndpointRouteBuilder MapStatsRoutes(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/api/v1/orgs/{orgId}/stats", GetAsync).WithTags("Stats")
            .RequireCapability(Capability.OrgRead)
            .WithName("GetOrgStats")
            .WithSummary("The org at a glance: members by role, pending invitations, active keys, this period's usage against the plan, amount due, receivable and customer credit.");
        return routes;
    }

    public static async Task<Microsoft.AspNetCore.Http.HttpResults.Ok<OrgStatsResponse>> GetAsync(string orgId, OrgStatsReader stats, CancellationToken cancellationToken) =>
        TypedResults.Ok(await stats.ReadAsync(orgId, cancellationToken));
}

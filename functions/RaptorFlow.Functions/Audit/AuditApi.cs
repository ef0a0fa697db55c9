using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using RaptorFlow.Functions.Platform.Access;
using RaptorFlow.Functions.Platform.Paging;
using RaptorFlow.Functions.Platform.Problems;

namespace RaptorFlow.Functions.Audit;

public static partial class AuditApi
{
    public static IEndpointRouteBuilder MapAudit(this IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup("/api/v1/orgs/{orgId}/audit-events").WithTags("Audit");

        api.MapGet("/", ListAsync).RequireCapability(Capability.AuditRead)
            .WithName("ListAuditEvents").WithSummary("The org's audit events, newest first; filter by action and actor (user:{id} or api_key:{id}).");

        routes.MapGet("/api/v1/ops/audit-events", ListPlatformAsync).WithTags("Ops").RequireCapability(Capability.PlatformAdmin)
            .WithName("ListPlatformAuditEvents").WithSummary("What platform admins did outside any org (webhook replays), newest first; same filters.");

        return routes;
    }

    public static Task<Results<Ok<CursorPage<AuditEventResponse>>, ProblemHttpResult>> ListAsync(
        string orgId, PageRequest page, AuditLog audit, string? action, string? actor, CancellationToken cancellationToken) =>
        ListPartitionAsync(orgId, page, audit, action, actor, cancellationToken);

    public static Task<Results<Ok<CursorPage<AuditEventResponse>>, ProblemHttpResult>> ListPlatformAsync(
        PageRequest page, AuditLog audit, string? action, string? actor, CancellationToken cancellationToken) =>
        ListPartitionAsync(AuditLog.PlatformPartition, page, audit, action, actor, cancellationToken);

    private static async Task<Results<Ok<CursorPage<AuditEventResponse>>, ProblemHttpResult>> ListPartitionAsync(
        string partition, PageRequest page, AuditLog audit, string? action, string? actor, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (action is not null && !ActionPattern().IsMatch(action))
        {
            errors["action"] = ["An action name such as org.updated."];
        }

        if (actor is not null && !ActorPattern().IsMatch(actor))
        {
            errors["actor"] = ["user:{id}, api_key:{id} or system:{name}."];
        }

        if (errors.Count > 0)
        {
            return ApiProblem.Validation(errors);
        }

        var (rows, next) = await audit.ReadPageAsync(partition, action, actor, page, cancellationToken);
        return TypedResults.Ok(new CursorPage<AuditEventResponse>([.. rows.Select(ToResponse)], next));
    }

    private static AuditEventResponse ToResponse(AuditEventRow row) => new(
        row.EventId,
        row.Action,
        new AuditActorResponse(row.ActorKind, row.ActorId, row.ActorEmail),
        new AuditTargetResponse(row.TargetType, row.TargetId),
        row.OccurredAt,
        row.Ip,
        row.UserAgent,
        row.RequestId,
        row.Changes is null ? null : JsonSerializer.Deserialize<Dictionary<string, AuditChange>>(row.Changes, AuditJson.Options));

    [GeneratedRegex("^[a-z_]{1,40}(\\.[a-z_]{1,40}){1,3}$")]
    private static partial Regex ActionPattern();

    [GeneratedRegex("^(user|api_key|system):[A-Za-z0-9._:@-]{1,128}$")]
    private static partial Regex ActorPattern();
}

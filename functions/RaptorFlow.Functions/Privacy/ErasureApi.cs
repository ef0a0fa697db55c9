using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using RaptorFlow.Functions.Platform.Access;
using RaptorFlow.Functions.Platform.Ids;
using RaptorFlow.Functions.Platform.Problems;

namespace RaptorFlow.Functions.Privacy;

/// <summary>What an erasure did: the pseudonym that now stands for the user and the orgs whose records were rewritten.</summary>
public sealed record ErasureResponse(string Pseudonym, IReadOnlyList<string> Orgs);

/// <summary>A background erasure: its status (<c>queued</c>, <c>running</c>, <c>done</c>, <c>failed</c>) and how many of its orgs are rewritten.</summary>
public sealed record ErasureJobResponse(
    string Id,
    string Status,
    string Pseudonym,
    IReadOnlyList<string> Orgs,
    int OrgsDone,
    DateTimeOffset CreatedAt,
    DateTimeOffset? CompletedAt,
    string? Error);

public static class ErasureApi
{
    public static IEndpointRouteBuilder MapErasureRoutes(this IEndpointRouteBuilder routes)
    {
        routes.MapDelete("/api/v1/me", EraseMeAsync).WithTags("Privacy").RequireCapability(Capability.ProfileErase)
            .WithName("EraseMe")
            .WithSummary("Erases the signed-in user: leaves every org, closes invitations to them, and pseudonymizes their email, name and id in the orgs' records. Refused while they are the last owner of an org. A small erasure answers 200 when done; a large one answers 202 with a job to poll.");
        routes.MapGet("/api/v1/me/erasures/{erasureId}", GetMyErasureAsync).WithTags("Privacy").RequireCapability(Capability.ProfileErase)
            .WithName("GetMyErasure")
            .WithSummary("A background erasure of the signed-in user: its status and how many orgs are rewritten. Readable after the erasure, with the same sign-in.");
        return routes;
    }

    public static async Task<Results<Ok<ErasureResponse>, Accepted<ErasureJobResponse>, ProblemHttpResult>> EraseMeAsync(
        HttpContext context, UserErasure erasure, ErasureBook jobs, IOptions<ErasureSettings> settings, TimeProvider time)
    {
        var user = ErasureSubject.Of(context.GetCaller());
        var pseudonym = UserErasure.PseudonymOf(user.UserId);
        if (await jobs.FindUnfinishedAsync(pseudonym, CancellationToken.None) is { } running)
        {
            return Accepted(running);
        }

        // Decided before anything changes: refused, or done here, or handed to a job.
        var plan = await erasure.PlanAsync(user, CancellationToken.None);
        if (plan.LastOwnerOf.Count > 0)
        {
            return LastOwner(plan.LastOwnerOf);
        }

        var orgs = plan.Orgs.Concat(await jobs.LeftOverAsync(pseudonym, CancellationToken.None)).Distinct(StringComparer.Ordinal).ToList();
        if (orgs.Count > settings.Value.InlineOrgLimit)
        {
            return Accepted(await jobs.StartAsync(user, orgs));
        }

        var now = time.GetUtcNow();
        var lastOwnerOf = await erasure.CarryOutAsync(user, orgs, 0, IdGenerator.NewSortableId(now), now, _ => Task.CompletedTask, CancellationToken.None);
        return lastOwnerOf is not null ? LastOwner([lastOwnerOf]) : TypedResults.Ok(new ErasureResponse($"user:{pseudonym}", orgs));
    }

    public static async Task<Results<Ok<ErasureJobResponse>, ProblemHttpResult>> GetMyErasureAsync(
        string erasureId, HttpContext context, ErasureBook jobs, CancellationToken cancellationToken)
    {
        // Keyed by the token's subject, not its address: the job outlives the memberships and the address it erased.
        var job = await jobs.FindAsync(UserErasure.PseudonymOf(context.GetCaller().Id), erasureId, cancellationToken);
        return job is null
            ? ApiProblem.NotFound("erasure.not_found", "No erasure with this id is visible to the caller.")
            : TypedResults.Ok(ToResponse(job));
    }

    private static Accepted<ErasureJobResponse> Accepted(ErasureJobRow job) =>
        TypedResults.Accepted($"/api/v1/me/erasures/{job.JobId}", ToResponse(job));

    private static ProblemHttpResult LastOwner(IReadOnlyList<string> orgIds) =>
        ApiProblem.Create(StatusCodes.Status409Conflict, "member.last_owner", "Conflict.",
            "The user is the last owner of these orgs; transfer ownership or delete them first.",
            new Dictionary<string, string[]> { ["orgIds"] = [.. orgIds] });

    private static ErasureJobResponse ToResponse(ErasureJobRow job) =>
        new(job.JobId, job.Status, $"user:{job.PartitionKey}", job.OrgList, job.OrgsDone, job.CreatedAt, job.CompletedAt, job.Error);
}

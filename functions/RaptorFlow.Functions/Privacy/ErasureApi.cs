using Microsoft.AspNetCore.Http.HttpResults;
using RaptorFlow.Functions.Platform.Access;
using RaptorFlow.Functions.Platform.Problems;

namespace RaptorFlow.Functions.Privacy;

/// <summary>What an erasure did: the pseudonym that now stands for the user and the orgs whose records were rewritten.</summary>
public sealed record ErasureResponse(string Pseudonym, IReadOnlyList<string> Orgs);

public static class ErasureApi
{
    public static IEndpointRouteBuilder MapErasureRoutes(this IEndpointRouteBuilder routes)
    {
        routes.MapDelete("/api/v1/me", EraseMeAsync).WithTags("Privacy").RequireCapability(Capability.ProfileErase)
            .WithName("EraseMe")
            .WithSummary("Erases the signed-in user: leaves every org, closes invitations to them, and pseudonymizes their email, name and id in the orgs' records. Refused while they are the last owner of an org.");
        return routes;
    }

    public static async Task<Results<Ok<ErasureResponse>, ProblemHttpResult>> EraseMeAsync(HttpContext context, UserErasure erasure)
    {
        var result = await erasure.EraseAsync(context.GetCaller(), CancellationToken.None);
        if (result.LastOwnerOf.Count > 0)
        {
            return ApiProblem.Create(StatusCodes.Status409Conflict, "member.last_owner", "Conflict.",
                "The user is the last owner of these orgs; transfer ownership or delete them first.",
                new Dictionary<string, string[]> { ["orgIds"] = [.. result.LastOwnerOf] });
        }

        return TypedResults.Ok(new ErasureResponse($"user:{result.Pseudonym}", result.Orgs));
    }
}

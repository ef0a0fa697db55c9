using Microsoft.AspNetCore.Http.HttpResults;
using RaptorFlow.Functions.Platform.Problems;
using RaptorFlow.Functions.Platform.RateLimiting;

namespace RaptorFlow.Functions.Platform.Access;

public static class DevIssuerApi
{
    /// <summary>Maps the token and status routes only while the development issuer is on (<c>Auth:DevIssuer:Enabled</c>).</summary>
    public static IEndpointRouteBuilder MapDevIssuer(this IEndpointRouteBuilder routes)
    {
        if (routes.ServiceProvider.GetService<DevTokenIssuer>() is null)
        {
            return routes;
        }

        routes.MapPost("/api/dev/token", IssueToken)
            .IsPublic("Development issuer: enabled only by configuration and refused in Azure.")
            .LimitPerClientAddress("dev-token", s => s.DevTokenPerAddress)
            .WithTags("Development")
            .WithName("IssueDevToken")
            .WithSummary("Mints a user token signed by the local development issuer.");
        // Lets a client discover the issuer without probing the token route; absent (404) when it is off.
        routes.MapGet("/api/dev/status", Status)
            .IsPublic("Development issuer: enabled only by configuration and refused in Azure.")
            .WithTags("Development")
            .WithName("GetDevStatus")
            .WithSummary("Answers devIssuer: true while the local development issuer is on.");
        return routes;
    }

    public static Ok<DevStatusResponse> Status() => TypedResults.Ok(new DevStatusResponse(DevIssuer: true));

    public static Results<Ok<DevTokenResponse>, ProblemHttpResult> IssueToken(DevTokenRequest request, DevTokenIssuer issuer)
    {
        var errors = new Dictionary<string, string[]>();
        var sub = request.Sub?.Trim();
        if (sub is null || !DevTokenIssuer.SubjectPattern().IsMatch(sub))
        {
            errors["sub"] = ["Required: 1-128 characters of letters, digits and . _ : @ -."];
        }

        // Addresses are kept as written (not normalised), as Entra would send them, so the app's own normalising is what gets tested.
        var email = request.Email;
        if (email is not null && Caller.NormalizeEmail(email) is null)
        {
            errors["email"] = ["Not an email address."];
        }

        var upn = request.Upn;
        if (upn is not null && Caller.NormalizeEmail(upn) is null)
        {
            errors["upn"] = ["Not an email-like user principal name."];
        }

        var name = request.Name?.Trim();
        if (name is { Length: > 200 })
        {
            errors["name"] = ["At most 200 characters."];
        }

        if (errors.Count > 0)
        {
            return ApiProblem.Validation(errors);
        }

        var (token, expires) = issuer.Issue(sub!, email, string.IsNullOrEmpty(name) ? null : name, upn);
        return TypedResults.Ok(new DevTokenResponse(token, "Bearer", expires));
    }
}

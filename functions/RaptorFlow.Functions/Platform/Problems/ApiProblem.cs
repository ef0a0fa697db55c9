using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace RaptorFlow.Functions.Platform.Problems;

/// <summary>RFC 9457 problem responses carrying a stable machine-readable <c>code</c>.</summary>
public static class ApiProblem
{
    public const string TypePrefix = "urn:raptorflow:problem:";

    public static ProblemHttpResult Create(
        int status,
        string code,
        string title,
        string? detail = null,
        IDictionary<string, string[]>? errors = null)
    {
        var problem = new ProblemDetails
        {
            Type = TypePrefix + code,
            Title = title,
            Status = status,
            Detail = detail ?? title,
        };
        problem.Extensions["code"] = code;
        if (errors is { Count: > 0 })
        {
            problem.Extensions["errors"] = errors;
        }

        return TypedResults.Problem(problem);
    }

    public static ProblemHttpResult Validation(IDictionary<string, string[]> errors, string? detail = null) =>
        Create(StatusCodes.Status400BadRequest, "validation.failed", "The request is not valid.",
            detail ?? "One or more fields are invalid; see errors.", errors);

    public static ProblemHttpResult NotFound(string code, string detail) =>
        Create(StatusCodes.Status404NotFound, code, "Not found.", detail);

    public static ProblemHttpResult Conflict(string code, string detail) =>
        Create(StatusCodes.Status409Conflict, code, "Conflict.", detail);

    public static ProblemHttpResult Forbidden(string code, string detail) =>
        Create(StatusCodes.Status403Forbidden, code, "Forbidden.", detail);

    public static ProblemHttpResult PreconditionFailed(string detail = "The resource has changed; fetch it again and retry with its current ETag.") =>
        Create(StatusCodes.Status412PreconditionFailed, "precondition.failed", "Precondition failed.", detail);

    public static Task WriteAsync(HttpContext context, int status, string code, string title, string? detail = null, IDictionary<string, string[]>? errors = null) =>
        Create(status, code, title, detail, errors).ExecuteAsync(context);
}

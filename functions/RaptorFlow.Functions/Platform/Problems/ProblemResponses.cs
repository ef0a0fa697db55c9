using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using RaptorFlow.Functions.Platform.Json;

namespace RaptorFlow.Functions.Platform.Problems;

public static partial class ProblemResponses
{
    public static IServiceCollection AddProblemResponses(this IServiceCollection services)
    {
        services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            context.ProblemDetails.Instance ??= context.HttpContext.Request.Path;
            context.ProblemDetails.Extensions["requestId"] = context.HttpContext.TraceIdentifier;
            var traceId = Activity.Current?.TraceId.ToString();
            if (traceId is not null)
            {
                context.ProblemDetails.Extensions["traceId"] = traceId;
            }
        });
        services.AddExceptionHandler<ExceptionToProblem>();
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        return services;
    }

    public static WebApplication UseProblemResponses(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages(async context =>
        {
            var http = context.HttpContext;
            if (http.Response.HasStarted || http.Response.ContentLength > 0 || http.Response.ContentType is not null)
            {
                return;
            }

            var status = http.Response.StatusCode;
            var (code, title) = status switch
            {
                404 => ("route.not_found", "No resource matches this path."),
                405 => ("method.not_allowed", "This method is not allowed on this resource."),
                401 => ("auth.unauthenticated", "Authentication is required."),
                403 => ("auth.forbidden", "The caller may not perform this operation."),
                413 => ("request.body_too_large", "The request body is too large."),
                415 => ("request.unsupported_media_type", "The request body must be application/json."),
                _ => ($"http.{status}", "The request failed."),
            };
            await ApiProblem.WriteAsync(http, status, code, title);
        });
        return app;
    }

    /// <summary>Maps every escaping exception to problem+json; never leaks internals.</summary>
    private sealed partial class ExceptionToProblem(ILogger<ExceptionToProblem> logger) : IExceptionHandler
    {
        public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
        {
            var (status, code, title, detail) = exception switch
            {
                ApiProblemException p => (p.Status, p.Code, p.Title, p.Detail),
                BadHttpRequestException { StatusCode: 413 } => (413, "request.body_too_large", "The request body is too large.", (string?)null),
                BadHttpRequestException { StatusCode: 415 } => (415, "request.unsupported_media_type", "The request body must be application/json.", null),
                BadHttpRequestException { InnerException: JsonException json } => (400, "request.malformed_json", "The request body is not valid JSON for this operation.", Describe(json)),
                BadHttpRequestException b when b.Message.Contains("no body was provided", StringComparison.OrdinalIgnoreCase) =>
                    (400, "request.body_required", "A JSON request body is required.", null),
                BadHttpRequestException b => (b.StatusCode, "request.bad_request", "The request is not valid.", null),
                JsonException json => (400, "request.malformed_json", "The request body is not valid JSON for this operation.", Describe(json)),
                OperationCanceledException when httpContext.RequestAborted.IsCancellationRequested => (499, "request.aborted", "The client closed the request.", null),
                _ => (500, "internal_error", "An unexpected error occurred.", "The error was logged; quote the requestId when reporting it."),
            };

            if (status >= 500)
            {
                LogUnhandled(logger, exception, httpContext.Request.Method, httpContext.Request.Path);
            }

            if (httpContext.Response.HasStarted)
            {
                return false;
            }

            httpContext.Response.Clear();
            httpContext.Response.StatusCode = status;
            var errors = exception switch
            {
                ApiProblemException p => p.Errors,
                BadHttpRequestException { InnerException: JsonException json } => FieldErrors(json),
                JsonException json => FieldErrors(json),
                _ => null,
            };
            await ApiProblem.WriteAsync(httpContext, status, code, title, detail, errors);
            return true;
        }

        private static string Describe(JsonException json) =>
            string.IsNullOrEmpty(json.Path) ? "The body could not be read as the expected JSON object."
            : json is WireValueException ? $"The value at '{json.Path}' is not allowed. {json.Message}"
            : $"The value at '{json.Path}' is malformed, of the wrong type, or not a known property.";

        /// <summary>The field a malformed body names, as <c>errors</c> list fields (<c>$.events[0].meter</c> is <c>events[0].meter</c>).</summary>
        private static Dictionary<string, string[]>? FieldErrors(JsonException json) =>
            json.Path is { Length: > 2 } path && path.StartsWith("$.", StringComparison.Ordinal)
                ? new() { [path[2..]] = [json is WireValueException ? json.Message : "Malformed, of the wrong type, or not a known property."] }
                : null;

        [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled exception for {Method} {Path}")]
        private static partial void LogUnhandled(ILogger logger, Exception exception, string method, string path);
    }
}

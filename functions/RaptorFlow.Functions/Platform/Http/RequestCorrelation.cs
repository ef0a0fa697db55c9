using System.Diagnostics;
using RaptorFlow.Functions.Platform.Telemetry;

namespace RaptorFlow.Functions.Platform.Http;

/// <summary>
/// Gives every request and invocation one id: the caller's <c>x-request-id</c> when it is sane,
/// else the W3C trace id. The id is echoed in <c>x-request-id</c>, stamped on problem responses
/// and logged with the Functions host's invocation id (<c>X-Azure-Functions-InvocationId</c>).
/// </summary>
public sealed partial class RequestCorrelation(RequestDelegate next, ILogger<RequestCorrelation> logger)
{
    public const string RequestIdHeader = "x-request-id";

    /// <summary>What the Functions host sends a custom handler (its <c>HttpWorkerConstants.InvocationIdHeaderName</c>).</summary>
    public const string InvocationIdHeader = "X-Azure-Functions-InvocationId";

    /// <summary>Read when the host's header is absent, for callers that still send the older name.</summary>
    public const string FallbackInvocationIdHeader = "x-ms-invocation-id";

    /// <summary>The invocation id the host sent, or empty when there is none (or it is not a sane id).</summary>
    public static string InvocationId(HttpRequest request)
    {
        var id = request.Headers[InvocationIdHeader].ToString();
        if (id.Length == 0)
        {
            id = request.Headers[FallbackInvocationIdHeader].ToString();
        }

        return IsSafe(id) ? id : string.Empty;
    }

    public async Task InvokeAsync(HttpContext context)
    {
        var activity = Activity.Current;
        var requestId = context.Request.Headers[RequestIdHeader].ToString();
        if (!IsSafe(requestId))
        {
            requestId = activity?.TraceId.ToString() ?? Guid.NewGuid().ToString("N");
        }

        context.TraceIdentifier = requestId;
        var invocationId = InvocationId(context.Request);

        activity?.SetTag("raptorflow.request_id", requestId);
        if (invocationId.Length > 0)
        {
            activity?.SetTag("faas.invocation_id", invocationId);
        }

        // Set as the response starts, so error handlers that clear the response keep it.
        context.Response.OnStarting(() =>
        {
            context.Response.Headers[RequestIdHeader] = requestId;
            return Task.CompletedTask;
        });
        using (logger.BeginScope(new LogScope(("RequestId", requestId), ("InvocationId", invocationId))))
        {
            var started = Stopwatch.GetTimestamp();
            await next(context);
            if (logger.IsEnabled(LogLevel.Information))
            {
                LogRequest(logger, context.Request.Method, context.Request.Path, context.Response.StatusCode,
                    Stopwatch.GetElapsedTime(started).TotalMilliseconds, invocationId);
            }
        }
    }

    private static bool IsSafe(string value) =>
        value.Length is > 0 and <= 128 && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':');

    [LoggerMessage(Level = LogLevel.Information, Message = "{Method} {Path} answered {Status} in {ElapsedMs:0.0} ms (invocation {InvocationId})")]
    private static partial void LogRequest(ILogger logger, string method, string path, int status, double elapsedMs, string invocationId);
}

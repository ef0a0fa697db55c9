using Microsoft.AspNetCore.Http.Features;
using RaptorFlow.Functions.Platform.Problems;

namespace RaptorFlow.Functions.Platform.Http;

/// <summary>
/// Enforces the endpoint's body limit before anything buffers the body: a declared length over
/// the limit is refused at once, and the server's own limit stops a chunked body mid-stream.
/// </summary>
public sealed class RequestBodyLimitMiddleware(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        var limit = context.GetEndpoint()?.Metadata.GetMetadata<RequestBodyLimit>()?.Bytes ?? RequestBodyLimit.Default;
        if (context.Request.ContentLength > limit)
        {
            return ApiProblem.WriteAsync(context, StatusCodes.Status413PayloadTooLarge, "request.body_too_large",
                "The request body is too large.", $"This endpoint accepts at most {limit} bytes.");
        }

        var feature = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (feature is { IsReadOnly: false })
        {
            feature.MaxRequestBodySize = limit;
        }

        return next(context);
    }
}

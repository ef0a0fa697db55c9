using RaptorFlow.Functions.Hosting;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Idempotency;

/// <summary>Endpoint metadata: POSTs to this endpoint honour <c>Idempotency-Key</c>.</summary>
public sealed record IdempotentEndpoint;

public static class IdempotencyRegistration
{
    public const string TableName = "IdempotencyKeys";

    public static WebApplicationBuilder AddIdempotency(this WebApplicationBuilder builder)
    {
        builder.Services.AddStorageTable(TableName);
        builder.Services.AddTimerFunction<PurgeIdempotencyKeys>(PurgeIdempotencyKeys.FunctionName, PurgeIdempotencyKeys.Schedule);
        return builder;
    }

    public static IApplicationBuilder UseIdempotency(this IApplicationBuilder app) =>
        app.UseMiddleware<IdempotencyMiddleware>();

    /// <summary>
    /// The same <c>Idempotency-Key</c> and body within 24 hours replays the first response (marked
    /// <c>Idempotency-Replayed: true</c>); a different body is 422; while the first is running, 409.
    /// Keys are scoped to the caller and the route's org.
    /// </summary>
    public static TBuilder WithIdempotency<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder
    {
        builder.WithMetadata(new IdempotentEndpoint());
        builder.WithMetadata(new Microsoft.AspNetCore.Mvc.ProducesResponseTypeAttribute(typeof(Microsoft.AspNetCore.Mvc.ProblemDetails), StatusCodes.Status409Conflict, "application/problem+json"));
        builder.WithMetadata(new Microsoft.AspNetCore.Mvc.ProducesResponseTypeAttribute(typeof(Microsoft.AspNetCore.Mvc.ProblemDetails), StatusCodes.Status422UnprocessableEntity, "application/problem+json"));
        return builder;
    }
}

using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using RaptorFlow.Functions.Hosting;
using RaptorFlow.Functions.Platform.OpenApi;
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
        builder.Services.Configure<OpenApiOptions>(ApiDocumentRegistration.DocumentName, o => o.AddOperationTransformer(DescribeAsync));
        return builder;
    }

    private static Task DescribeAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        if (!context.Description.ActionDescriptor.EndpointMetadata.OfType<IdempotentEndpoint>().Any())
        {
            return Task.CompletedTask;
        }

        operation.Parameters ??= [];
        operation.Parameters.Add(new OpenApiParameter
        {
            Name = IdempotencyMiddleware.KeyHeader,
            In = ParameterLocation.Header,
            Description = "Any unique string (a UUID): a retry with the same key and body within 24 hours replays the first response, marked `Idempotency-Replayed: true`.",
            Schema = new OpenApiSchema { Type = JsonSchemaType.String, MaxLength = 255 },
        });
        OperationProblems.Declare(operation, context, StatusCodes.Status400BadRequest, "The request is not valid.", "idempotency.key_invalid");
        OperationProblems.Declare(operation, context, StatusCodes.Status409Conflict, "Conflict.", "idempotency.in_flight");
        OperationProblems.Declare(operation, context, StatusCodes.Status422UnprocessableEntity, "Idempotency key reused.", "idempotency.key_reused");
        return Task.CompletedTask;
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

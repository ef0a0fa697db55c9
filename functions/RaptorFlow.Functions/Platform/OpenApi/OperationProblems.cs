using System.Text.Json.Nodes;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using RaptorFlow.Functions.Platform.Problems;

namespace RaptorFlow.Functions.Platform.OpenApi;

/// <summary>
/// The problem+json responses an operation can answer, each with the <c>code</c> values known for
/// it (one example per code). Each mechanism declares its own: the platform those of bodies and
/// access, idempotency its 409/422, API keys their 401s and 429.
/// </summary>
public static class OperationProblems
{
    public const string SchemaName = "Problem";
    public const string MediaType = "application/problem+json";

    /// <summary>Adds <paramref name="codes"/> to the operation's <paramref name="status"/> response, creating it if needed.</summary>
    public static void Declare(OpenApiOperation operation, OpenApiOperationTransformerContext context, int status, string title, params string[] codes)
    {
        operation.Responses ??= [];
        var key = status.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (!operation.Responses.TryGetValue(key, out var existing) || existing is not OpenApiResponse response)
        {
            response = new OpenApiResponse { Description = title };
            operation.Responses[key] = response;
        }

        response.Content ??= new Dictionary<string, OpenApiMediaType>();
        if (!response.Content.TryGetValue(MediaType, out var media))
        {
            media = new OpenApiMediaType();
            response.Content[MediaType] = media;
        }

        media.Schema = new OpenApiSchemaReference(SchemaName, context.Document);
        media.Examples ??= new Dictionary<string, IOpenApiExample>();
        foreach (var code in codes)
        {
            media.Examples[code] = Example(context.Document, code, status, title);
        }

        var listed = string.Join(", ", media.Examples.Keys.Order(StringComparer.Ordinal).Select(c => $"`{c}`"));
        response.Description = listed.Length == 0 ? title : $"{title} Codes: {listed}.";
    }

    /// <summary>One example per code, kept once in <c>components.examples</c> and referred to by every operation that can answer it.</summary>
    private static IOpenApiExample Example(OpenApiDocument? document, string code, int status, string title)
    {
        var example = new OpenApiExample
        {
            Summary = code,
            Value = new JsonObject
            {
                ["type"] = ApiProblem.TypePrefix + code,
                ["title"] = title,
                ["status"] = status,
                ["detail"] = title,
                ["code"] = code,
                ["requestId"] = "0HN7S3Q9KJ2VA:00000001",
            },
        };
        if (document is null)
        {
            return example;
        }

        document.Components ??= new OpenApiComponents();
        document.Components.Examples ??= new Dictionary<string, IOpenApiExample>();
        document.Components.Examples.TryAdd(code, example);
        return new OpenApiExampleReference(code, document);
    }

    /// <summary>Problem responses the endpoints declared themselves (their own 404s, 409s) refer to the one schema too.</summary>
    internal static void UseSharedSchema(OpenApiOperation operation, OpenApiOperationTransformerContext context)
    {
        foreach (var response in operation.Responses?.Values.OfType<OpenApiResponse>() ?? [])
        {
            if (response.Content?.TryGetValue(MediaType, out var media) == true)
            {
                media.Schema = new OpenApiSchemaReference(SchemaName, context.Document);
            }
        }
    }

    /// <summary>Every problem response refers to one schema: RFC 9457 plus <c>code</c>, <c>errors</c> and the correlation ids.</summary>
    internal static Task AddSchemaAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Components ??= new OpenApiComponents();
        document.Components.Schemas ??= new Dictionary<string, IOpenApiSchema>();
        document.Components.Schemas[SchemaName] = new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Description = "An RFC 9457 problem. `code` is stable and machine-readable; `title` and `detail` are for people.",
            Required = new HashSet<string> { "type", "title", "status", "code" },
            Properties = new Dictionary<string, IOpenApiSchema>
            {
                ["type"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "urn:raptorflow:problem:{code}" },
                ["title"] = new OpenApiSchema { Type = JsonSchemaType.String },
                ["status"] = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int32" },
                ["detail"] = new OpenApiSchema { Type = JsonSchemaType.String },
                ["instance"] = new OpenApiSchema { Type = JsonSchemaType.String },
                ["code"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "Stable machine-readable code, e.g. `validation.failed`." },
                ["errors"] = new OpenApiSchema
                {
                    Type = JsonSchemaType.Object,
                    Description = "Validation errors by field.",
                    AdditionalProperties = new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.String } },
                },
                ["requestId"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "Quote it when reporting a problem; also the x-request-id header." },
                ["traceId"] = new OpenApiSchema { Type = JsonSchemaType.String },
            },
        };
        return Task.CompletedTask;
    }
}

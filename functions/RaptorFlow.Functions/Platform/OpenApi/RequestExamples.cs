using System.Text.Json.Nodes;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace RaptorFlow.Functions.Platform.OpenApi;

/// <summary>
/// An example body for every POST, PUT and PATCH that takes JSON and has none, built from its
/// schema (enums give their first value, formats and property names a plausible value), so the
/// playground and generated clients start from a body the API accepts in shape.
/// </summary>
internal static class RequestExamples
{
    private const int MaxDepth = 6;

    public static Task AddAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        var schemas = document.Components?.Schemas ?? new Dictionary<string, IOpenApiSchema>();
        foreach (var path in document.Paths.Values)
        {
            foreach (var (method, operation) in path.Operations ?? [])
            {
                if ((method == HttpMethod.Post || method == HttpMethod.Put || method == HttpMethod.Patch)
                    && operation.RequestBody?.Content?.TryGetValue("application/json", out var media) == true
                    && media is { Schema: { } schema, Example: null } && media.Examples is not { Count: > 0 })
                {
                    media.Example = ValueOf(schema, null, schemas, 0);
                }
            }
        }

        return Task.CompletedTask;
    }

    private static JsonNode? ValueOf(IOpenApiSchema schema, string? name, IDictionary<string, IOpenApiSchema> schemas, int depth)
    {
        if (schema is OpenApiSchemaReference reference)
        {
            if (reference.Reference.Id is not { } id || !schemas.TryGetValue(id, out var target) || depth > MaxDepth)
            {
                return new JsonObject();
            }

            schema = target;
        }

        if (schema.Examples is { Count: > 0 } examples)
        {
            return examples[0]?.DeepClone();
        }

        if (schema.Enum is { Count: > 0 } values)
        {
            return values[0]?.DeepClone();
        }

        var alternatives = schema.OneOf is { Count: > 0 } ? schema.OneOf : schema.AnyOf;
        if (alternatives is { Count: > 0 })
        {
            var choice = alternatives.FirstOrDefault(s => s.Type is not JsonSchemaType.Null);
            return choice is null ? null : ValueOf(choice, name, schemas, depth + 1);
        }

        var type = schema.Type ?? (schema.Properties is { Count: > 0 } ? JsonSchemaType.Object : 0);
        if (type.HasFlag(JsonSchemaType.Object))
        {
            var body = new JsonObject();
            foreach (var (property, propertySchema) in schema.Properties ?? new Dictionary<string, IOpenApiSchema>())
            {
                body[property] = ValueOf(propertySchema, property, schemas, depth + 1);
            }

            return body;
        }

        if (type.HasFlag(JsonSchemaType.Array))
        {
            return schema.Items is null ? new JsonArray() : new JsonArray(ValueOf(schema.Items, name, schemas, depth + 1));
        }

        if (type.HasFlag(JsonSchemaType.Integer) || type.HasFlag(JsonSchemaType.Number))
        {
            return schema.Minimum is { } minimum && decimal.TryParse(minimum, System.Globalization.CultureInfo.InvariantCulture, out var least) && least > 1
                ? JsonValue.Create(least)
                : JsonValue.Create(1);
        }

        if (type.HasFlag(JsonSchemaType.Boolean))
        {
            return JsonValue.Create(false);
        }

        return type.HasFlag(JsonSchemaType.String) ? JsonValue.Create(TextFor(schema.Format, name)) : null;
    }

    private static string TextFor(string? format, string? name)
    {
        var n = name?.ToLowerInvariant() ?? "";
        return format switch
        {
            "date-time" => "2026-01-01T00:00:00Z",
            "date" => "2026-01-01",
            "email" => "ada@example.com",
            "uri" => "https://example.com/hooks/raptorflow",
            "uuid" => "4f6b1c9e-3a0d-4c4e-9d3a-8f2b6a1e5c7d",
            _ when n.Contains("email", StringComparison.Ordinal) => "ada@example.com",
            _ when n.Contains("url", StringComparison.Ordinal) => "https://example.com/hooks/raptorflow",
            _ when n.Contains("currency", StringComparison.Ordinal) => "INR",
            _ when n.Contains("slug", StringComparison.Ordinal) => "acme",
            _ when n.Contains("cidr", StringComparison.Ordinal) => "203.0.113.0/24",
            _ when n == "name" => "Acme Private Limited",
            _ when n.EndsWith("id", StringComparison.Ordinal) => $"{n[..^2]}_01JABCDEFGHJKMNPQRSTVWXYZ0",
            _ => n.Length > 0 ? $"example {n}" : "example",
        };
    }
}

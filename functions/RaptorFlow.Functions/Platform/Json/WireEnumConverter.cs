using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Schema;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace RaptorFlow.Functions.Platform.Json;

/// <summary>
/// Enums travel as their snake_case names, integers refused. <see cref="JsonStringEnumConverter"/>
/// alone also reads a comma-separated list for any enum and ORs the values together (so
/// <c>"admin, member"</c> became <c>viewer</c>); an enum that is not <see cref="FlagsAttribute"/>
/// here takes exactly one name. The names converter still writes and parses.
/// </summary>
public sealed class WireEnumConverter : JsonConverterFactory
{
    private readonly JsonStringEnumConverter _names = new(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false);

    // System.Text.Json describes only its own converters' values; this one's are the names converter's.
    private static readonly JsonSerializerOptions NamesOnly = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false) },
        TypeInfoResolver = new DefaultJsonTypeInfoResolver(),
    };

    /// <summary>OpenAPI schema transformer: an enum's schema lists its wire names, as the names converter alone would.</summary>
    public static Task DescribeAsync(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        var type = context.JsonTypeInfo.Type;
        if ((Nullable.GetUnderlyingType(type) ?? type).IsEnum
            && JsonSchemaExporter.GetJsonSchemaAsNode(NamesOnly, type)["enum"] is JsonArray names)
        {
            schema.Enum = [.. names.Select(n => n?.DeepClone()!)];
        }

        return Task.CompletedTask;
    }

    /// <summary>JSON Schema export options under which an enum's schema lists its wire names (the event catalogue's schemas).</summary>
    public static JsonSchemaExporterOptions SchemaOptions { get; } = new()
    {
        TransformSchemaNode = (context, node) =>
        {
            var type = context.TypeInfo.Type;
            return (Nullable.GetUnderlyingType(type) ?? type).IsEnum ? JsonSchemaExporter.GetJsonSchemaAsNode(NamesOnly, type) : node;
        },
    };

    public override bool CanConvert(Type typeToConvert) => _names.CanConvert(typeToConvert);

    public override JsonConverter? CreateConverter(Type typeToConvert, JsonSerializerOptions options)
    {
        var names = _names.CreateConverter(typeToConvert, options);
        return typeToConvert.IsDefined(typeof(FlagsAttribute), inherit: false)
            ? names
            : (JsonConverter?)Activator.CreateInstance(typeof(SingleName<>).MakeGenericType(typeToConvert), names);
    }

    private sealed class SingleName<T>(JsonConverter<T> names) : JsonConverter<T>
        where T : struct, Enum
    {
        private static readonly string Allowed =
            $"One of: {string.Join(", ", Enum.GetValues<T>().Select(v => JsonSerializer.Serialize(v, NamesOnly).Trim('"')))}.";

        public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            RefuseLists(ref reader);
            try
            {
                return names.Read(ref reader, typeToConvert, options);
            }
            catch (JsonException)
            {
                throw new WireValueException(Allowed);
            }
        }

        public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) =>
            names.Write(writer, value, options);

        public override T ReadAsPropertyName(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            RefuseLists(ref reader);
            try
            {
                return names.ReadAsPropertyName(ref reader, typeToConvert, options);
            }
            catch (JsonException)
            {
                throw new WireValueException(Allowed);
            }
        }

        public override void WriteAsPropertyName(Utf8JsonWriter writer, T value, JsonSerializerOptions options) =>
            names.WriteAsPropertyName(writer, value, options);

        private static void RefuseLists(ref Utf8JsonReader reader)
        {
            // The names converter splits on ',' after unescaping, so look at the unescaped text.
            if (reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName && reader.GetString()!.Contains(','))
            {
                throw new WireValueException(Allowed);
            }
        }
    }
}

/// <summary>A JSON value outside the values a field allows; its message is safe to show the caller (it names only wire values).</summary>
public sealed class WireValueException(string message) : JsonException(message);

using System.Text.Json;

namespace RaptorFlow.Functions.Razorpay;

/// <summary>
/// A verified webhook event as Razorpay sent it. Read leniently (Razorpay adds fields over time):
/// entities are looked up under <c>payload.{name}.entity</c>.
/// </summary>
public sealed class RazorpayEvent(string id, string name, JsonElement root)
{
    public string Id { get; } = id;

    /// <summary>The event name, e.g. <c>payment.captured</c>.</summary>
    public string Name { get; } = name;

    public JsonElement Root { get; } = root;

    public JsonElement? Entity(string name) =>
        Root.TryGetProperty("payload", out var payload) && payload.ValueKind == JsonValueKind.Object
        && payload.TryGetProperty(name, out var wrapper) && wrapper.ValueKind == JsonValueKind.Object
        && wrapper.TryGetProperty("entity", out var entity) && entity.ValueKind == JsonValueKind.Object
            ? entity
            : null;

    /// <summary>Parses a body already known to be a JSON object with an <c>event</c> string and a <c>payload</c> object; null otherwise.</summary>
    public static string? EventNameOf(JsonElement root) =>
        root.ValueKind == JsonValueKind.Object
        && root.TryGetProperty("event", out var name) && name.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(name.GetString())
        && root.TryGetProperty("payload", out var payload) && payload.ValueKind == JsonValueKind.Object
            ? name.GetString()
            : null;
}

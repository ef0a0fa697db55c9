using System.Text.Json;

namespace RaptorFlow.Functions.Razorpay;

/// <summary>Lenient readers for Razorpay entity fields.</summary>
public static class RazorpayEntity
{
    public static string? Text(this JsonElement entity, string property) =>
        entity.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>An integer amount in minor units; null when absent, null or not an integer.</summary>
    public static long? Amount(this JsonElement entity, string property) =>
        entity.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var amount)
            ? amount
            : null;

    /// <summary>A note; Razorpay sends <c>notes</c> as an object, or as an empty array when there are none.</summary>
    public static string? Note(this JsonElement entity, string key) =>
        entity.TryGetProperty("notes", out var notes) && notes.ValueKind == JsonValueKind.Object
        && notes.TryGetProperty(key, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;
}

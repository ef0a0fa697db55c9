using System.Globalization;
using System.Text.Json;

namespace RaptorFlow.Functions.Usage;

/// <summary>
/// A posted batch of usage events read one by one, so one bad event rejects only itself: each is
/// valid (and recorded), a repeat of an id earlier in the batch, or rejected with a stable reason.
/// </summary>
public sealed class UsageBatch
{
    private static readonly HashSet<string> EventProperties = new(StringComparer.Ordinal) { "id", "meter", "quantity", "timestamp" };

    private readonly UsageEventResult?[] _results;
    private readonly List<(int Index, UsageEvent Event)> _valid;

    private UsageBatch(UsageEventResult?[] results, List<(int Index, UsageEvent Event)> valid)
    {
        _results = results;
        _valid = valid;
    }

    /// <summary>The valid events, each id once, in batch order.</summary>
    public IReadOnlyList<UsageEvent> Events => [.. _valid.Select(v => v.Event)];

    public static UsageBatch Read(JsonElement[] items, DateTimeOffset now)
    {
        var results = new UsageEventResult?[items.Length];
        var valid = new List<(int Index, UsageEvent Event)>(items.Length);
        var firstIndexOfId = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < items.Length; i++)
        {
            var (usageEvent, id, reason, detail) = Read(items[i], now);
            if (usageEvent is null)
            {
                results[i] = new UsageEventResult(i, id, "rejected", reason, detail);
            }
            else if (firstIndexOfId.TryAdd(usageEvent.Id, i))
            {
                valid.Add((i, usageEvent));
            }
            else
            {
                results[i] = new UsageEventResult(i, id, "duplicate", null, $"Same id as event {firstIndexOfId[usageEvent.Id]} of this batch.");
            }
        }

        return new UsageBatch(results, valid);
    }

    /// <summary>One result per posted event, given what recording <see cref="Events"/> answered for each.</summary>
    public IReadOnlyList<UsageEventResult> WithOutcomes(IReadOnlyList<RecordOutcome> outcomes)
    {
        var results = (UsageEventResult?[])_results.Clone();
        for (var k = 0; k < _valid.Count; k++)
        {
            var (index, usageEvent) = _valid[k];
            results[index] = new UsageEventResult(index, usageEvent.Id, outcomes[k] == RecordOutcome.Accepted ? "accepted" : "duplicate");
        }

        return [.. results.Select(r => r!)];
    }

    /// <summary>ISO 8601 with an explicit offset or Z; a time without one is ambiguous and refused.</summary>
    private static bool TryParseInstant(string raw, out DateTimeOffset value)
    {
        value = default;
        var hasOffset = raw.EndsWith('Z') || raw.EndsWith('z') || (raw.Length > 6 && raw[^6] is '+' or '-' && raw[^3] == ':');
        if (!hasOffset || !DateTimeOffset.TryParse(raw, CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed) || parsed.Year < 2000)
        {
            return false;
        }

        value = parsed.ToUniversalTime();
        return true;
    }

    private static (UsageEvent? Event, string? Id, string? Reason, string? Detail) Read(JsonElement item, DateTimeOffset now)
    {
        if (item.ValueKind != JsonValueKind.Object)
        {
            return (null, null, "event.invalid", "Each event is a JSON object.");
        }

        string? id = item.TryGetProperty("id", out var idValue) && idValue.ValueKind == JsonValueKind.String ? idValue.GetString() : null;
        foreach (var property in item.EnumerateObject())
        {
            if (!EventProperties.Contains(property.Name))
            {
                return (null, id, "event.invalid", $"Unknown property '{property.Name}'.");
            }
        }

        if (!UsageEventRules.IsValidId(id))
        {
            return (null, null, "id.invalid", "id is 1-128 characters of A-Z, a-z, 0-9 and . _ : -");
        }

        if (id!.StartsWith(UsageEventRules.ReservedIdPrefix, StringComparison.Ordinal))
        {
            return (null, id, "id.reserved", $"Ids starting with '{UsageEventRules.ReservedIdPrefix}' are reserved for the platform.");
        }

        var meter = item.TryGetProperty("meter", out var meterValue) && meterValue.ValueKind == JsonValueKind.String ? meterValue.GetString() : null;
        if (!UsageEventRules.IsValidMeter(meter))
        {
            return (null, id, "meter.invalid", "meter is a-z first, then a-z, 0-9 or '_', at most 64 characters.");
        }

        if (!item.TryGetProperty("quantity", out var quantityValue) || quantityValue.ValueKind != JsonValueKind.Number
            || !quantityValue.TryGetInt64(out var quantity) || quantity is < 1 or > UsageEventRules.MaxQuantity)
        {
            return (null, id, "quantity.invalid", $"quantity is a whole number from 1 to {UsageEventRules.MaxQuantity}.");
        }

        if (!item.TryGetProperty("timestamp", out var timestampValue) || timestampValue.ValueKind != JsonValueKind.String
            || !TryParseInstant(timestampValue.GetString()!, out var timestamp))
        {
            return (null, id, "timestamp.invalid", "timestamp is an ISO 8601 date-time with a UTC offset.");
        }

        if (timestamp < now - UsageEventRules.MaxAge)
        {
            return (null, id, "timestamp.too_old", "Events more than 35 days old are not accepted.");
        }

        if (timestamp > now + UsageEventRules.MaxFutureSkew)
        {
            return (null, id, "timestamp.in_future", "Events dated more than 5 minutes ahead are not accepted.");
        }

        return (new UsageEvent(id, meter!, quantity, timestamp), id, null, null);
    }
}

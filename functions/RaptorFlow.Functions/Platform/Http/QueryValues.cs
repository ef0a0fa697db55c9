using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using RaptorFlow.Functions.Platform.Problems;

namespace RaptorFlow.Functions.Platform.Http;

/// <summary>
/// Reads query-string values one way for every endpoint: each name at most once, text of bounded
/// length, instants as ISO 8601 within [<see cref="Earliest"/>, <see cref="Latest"/>), whole numbers
/// within the endpoint's bounds. A value outside them is collected in <see cref="Errors"/> under its
/// name, for a 400 <c>validation.failed</c>, so date arithmetic downstream can never overflow.
/// </summary>
public sealed class QueryValues(IQueryCollection query)
{
    /// <summary>Earlier than any record this platform holds.</summary>
    public static readonly DateTimeOffset Earliest = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Far enough for any window a client asks about, and centuries from <see cref="DateTimeOffset.MaxValue"/>.</summary>
    public static readonly DateTimeOffset Latest = new(2200, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public const int MaxTextLength = 256;

    public Dictionary<string, string[]> Errors { get; } = new(StringComparer.Ordinal);

    public bool IsValid => Errors.Count == 0;

    /// <summary>The value of <paramref name="name"/>, or null when absent or empty.</summary>
    public string? Text(string name, int maxLength = MaxTextLength)
    {
        var values = query[name];
        if (values.Count > 1)
        {
            Errors[name] = [$"{name} may be given once."];
            return null;
        }

        var value = values.ToString();
        if (value.Length > maxLength)
        {
            Errors[name] = [$"{name} is at most {maxLength} characters."];
            return null;
        }

        return value.Length == 0 ? null : value;
    }

    /// <summary>
    /// An ISO 8601 date-time with a UTC offset (<c>2026-11-01T00:00:00Z</c>), as UTC. With
    /// <paramref name="assumeUtc"/> a value without an offset is read as UTC.
    /// </summary>
    public DateTimeOffset? Instant(string name, bool assumeUtc = false)
    {
        if (Text(name) is not { } raw)
        {
            return null;
        }

        var hasOffset = raw.EndsWith('Z') || raw.EndsWith('z') || (raw.Length > 6 && raw[^6] is '+' or '-' && raw[^3] == ':');
        var styles = assumeUtc ? DateTimeStyles.AssumeUniversal : DateTimeStyles.None;
        if ((!hasOffset && !assumeUtc) || !DateTimeOffset.TryParse(raw, CultureInfo.InvariantCulture, styles, out var parsed))
        {
            Errors[name] = [$"{name} is an ISO 8601 date-time with a UTC offset, e.g. 2026-11-01T00:00:00Z."];
            return null;
        }

        if (parsed < Earliest || parsed >= Latest)
        {
            Errors[name] = [$"{name} must be from {Earliest:yyyy-MM-dd} to before {Latest:yyyy-MM-dd}."];
            return null;
        }

        return parsed.ToUniversalTime();
    }

    /// <summary>A whole number from <paramref name="min"/> to <paramref name="max"/>, digits only.</summary>
    public int? Number(string name, int min, int max)
    {
        if (Text(name) is not { } raw)
        {
            return null;
        }

        if (!int.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            Errors[name] = [$"{name} must be a whole number from {min} to {max}."];
            return null;
        }

        return value;
    }

    public ProblemHttpResult Problem() => ApiProblem.Validation(Errors);
}

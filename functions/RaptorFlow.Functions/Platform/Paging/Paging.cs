using System.Buffers.Text;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Serialization;
using Azure.Data.Tables;
using RaptorFlow.Functions.Platform.Http;
using RaptorFlow.Functions.Platform.Problems;

namespace RaptorFlow.Functions.Platform.Paging;

/// <summary>A page of a list: <c>{ "data": [...], "nextCursor": "..." | null }</c>.</summary>
public sealed record CursorPage<T>(
    IReadOnlyList<T> Data,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? NextCursor);

/// <summary>
/// <c>?limit=</c> (1-100, default 20) and an opaque <c>?cursor=</c>; bound from the query string,
/// bad values are a 400 <c>validation.failed</c>.
/// </summary>
public sealed record PageRequest(int Limit, string? Cursor)
{
    public const int DefaultLimit = 20;
    public const int MaxLimit = 100;

    public static ValueTask<PageRequest?> BindAsync(HttpContext context, ParameterInfo parameter)
    {
        var query = new QueryValues(context.Request.Query);
        var limit = query.Number("limit", 1, MaxLimit) ?? DefaultLimit;
        if (query.Errors.ContainsKey("limit"))
        {
            throw Invalid("limit", $"limit must be a whole number from 1 to {MaxLimit}.");
        }

        var cursor = query.Text("cursor", maxLength: 2048);
        if (!query.IsValid)
        {
            throw Invalid("cursor", "cursor is not one this API issued.");
        }

        return ValueTask.FromResult<PageRequest?>(new PageRequest(limit, cursor));
    }

    internal static ApiProblemException Invalid(string field, string detail) =>
        new(StatusCodes.Status400BadRequest, "validation.failed", "The request is not valid.", $"{field}: {detail}",
            new Dictionary<string, string[]> { [field] = [detail] });
}

/// <summary>Reads one page of an Azure Tables query; the cursor wraps the service's continuation token.</summary>
public static class TablePaging
{
    /// <summary>
    /// One page of <paramref name="filter"/>. The cursor is bound to <paramref name="scope"/> (by
    /// default the filter itself), so a cursor from one list cannot be replayed against another. A
    /// filter that changes from page to page (one holding the current time) must name a stable scope.
    /// </summary>
    public static async Task<(IReadOnlyList<T> Items, string? NextCursor)> ReadPageAsync<T>(
        this TableClient table, string filter, PageRequest page, CancellationToken cancellationToken, IEnumerable<string>? select = null, string? scope = null)
        where T : class, ITableEntity, new()
    {
        var binding = scope ?? filter;
        var continuation = page.Cursor is null ? null : Decode(page.Cursor, binding);
        await foreach (var result in table.QueryAsync<T>(filter, page.Limit, select, cancellationToken).AsPages(continuation, page.Limit))
        {
            var next = result.ContinuationToken is null ? null : Encode(result.ContinuationToken, binding);
            return (result.Values, next);
        }

        return ([], null);
    }

    /// <summary>Wraps any opaque position (e.g. a last row key) as a cursor bound to <paramref name="scope"/>.</summary>
    public static string Encode(string position, string scope) =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes($"{BindingOf(scope)}|{position}"));

    public static string Decode(string cursor, string scope)
    {
        try
        {
            var text = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(cursor));
            var bar = text.IndexOf('|', StringComparison.Ordinal);
            if (bar > 0 && text.AsSpan(0, bar).SequenceEqual(BindingOf(scope)))
            {
                return text[(bar + 1)..];
            }
        }
        catch (FormatException)
        {
        }

        throw PageRequest.Invalid("cursor", "cursor is not one this API issued for this list.");
    }

    private static string BindingOf(string scope) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(scope)))[..16];
}

using Azure;

namespace RaptorFlow.Functions.Organizations;

/// <summary><c>ETag</c> out, <c>If-Match</c> in, using the storage row's own ETag so the check is atomic with the write.</summary>
public static class EntityTags
{
    public static void SetETag(this HttpContext context, ETag etag) => context.Response.Headers.ETag = etag.ToString();

    /// <summary>The request's <c>If-Match</c>, or null when absent (the write then uses the ETag it read).</summary>
    public static ETag? IfMatch(this HttpContext context)
    {
        var value = context.Request.Headers.IfMatch.ToString().Trim();
        return value.Length == 0 ? null : value == "*" ? ETag.All : new ETag(value);
    }

    /// <summary>False when the client's <c>If-Match</c> names another version than <paramref name="current"/>.</summary>
    public static bool Matches(this ETag? ifMatch, ETag current) =>
        ifMatch is null || ifMatch.Value == ETag.All || ifMatch.Value.ToString() == current.ToString();
}

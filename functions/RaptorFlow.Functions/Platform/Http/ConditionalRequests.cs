namespace RaptorFlow.Functions.Platform.Http;

/// <summary>Endpoint metadata: the operation honours <c>If-Match</c> and answers 412 for a stale ETag.</summary>
public sealed record ConditionalWriteEndpoint;

public static class ConditionalRequests
{
    /// <summary>Declares that <c>If-Match</c> guards this write (the API document then shows the header and the 412).</summary>
    public static TBuilder HonoursIfMatch<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new ConditionalWriteEndpoint());
}

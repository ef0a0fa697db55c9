namespace RaptorFlow.Functions.Platform.Http;

/// <summary>Endpoint metadata: the largest request body this endpoint accepts.</summary>
public sealed record RequestBodyLimit(long Bytes)
{
    public const long Default = 64 * 1024;
}

public static class RequestBodyLimitExtensions
{
    public static TBuilder WithRequestBodyLimit<TBuilder>(this TBuilder builder, long bytes)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new RequestBodyLimit(bytes));
}

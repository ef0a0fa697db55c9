namespace RaptorFlow.Functions.Platform.RateLimiting;

/// <summary>Endpoint metadata: requests to the endpoint are limited per client address, under <paramref name="Name"/>.</summary>
public sealed record ClientAddressLimit(string Name, Func<RateLimitSettings, int> PerMinute);

public static class ClientAddressLimitExtensions
{
    /// <summary>Limits the endpoint per client address to the rate <paramref name="perMinute"/> picks from the <c>RateLimits</c> settings.</summary>
    public static TBuilder LimitPerClientAddress<TBuilder>(this TBuilder builder, string name, Func<RateLimitSettings, int> perMinute)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new ClientAddressLimit(name, perMinute));
}

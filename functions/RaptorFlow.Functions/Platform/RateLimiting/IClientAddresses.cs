using System.Net;

namespace RaptorFlow.Functions.Platform.RateLimiting;

/// <summary>Where a request comes from, as far as the app can trust it (see the API keys' resolver for what is trusted).</summary>
public interface IClientAddresses
{
    IPAddress? Of(HttpContext context);
}

using System.Net;
using Microsoft.Extensions.Options;
using RaptorFlow.Functions.Hosting;
using RaptorFlow.Functions.Platform.RateLimiting;

namespace RaptorFlow.Functions.ApiKeys;

/// <summary>
/// Where a request comes from. Directly connected callers are judged by the socket's address.
/// Behind the Functions host (which forwards from loopback) the client is the last entry of
/// <c>X-Forwarded-For</c>, the one the platform's front end appended; it is trusted only under the
/// host (<c>FUNCTIONS_CUSTOMHANDLER_PORT</c> set), with <see cref="ApiKeySettings.TrustForwardedFor"/>
/// on and a loopback peer, so a caller can choose its own address neither by writing the header
/// (the front end appends after it) nor by reaching a standalone app on loopback.
/// </summary>
public sealed class ClientAddressResolver(IOptions<ApiKeySettings> settings, IConfiguration configuration) : IClientAddresses
{
    private readonly bool _trustForwardedFor = settings.Value.TrustForwardedFor && FunctionHost.IsUnderFunctionsHost(configuration);

    public IPAddress? Of(HttpContext context) => ClientAddress.Of(context, _trustForwardedFor);
}

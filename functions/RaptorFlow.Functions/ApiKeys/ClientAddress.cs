using System.Net;

namespace RaptorFlow.Functions.ApiKeys;

public static class ClientAddress
{
    public const string ForwardedForHeader = "X-Forwarded-For";

    public static IPAddress? Of(HttpContext context, bool trustForwardedFor)
    {
        var peer = context.Connection.RemoteIpAddress;
        if (trustForwardedFor && peer is not null && IPAddress.IsLoopback(peer)
            && context.Request.Headers[ForwardedForHeader] is { Count: > 0 } forwarded)
        {
            var last = forwarded[^1]!.Split(',')[^1].Trim();
            return ParseForwarded(last);
        }

        return peer is { IsIPv4MappedToIPv6: true } ? peer.MapToIPv4() : peer;
    }

    /// <summary>An address as front ends write it: <c>203.0.113.7</c>, <c>203.0.113.7:51234</c>, <c>2001:db8::1</c> or <c>[2001:db8::1]:51234</c>.</summary>
    internal static IPAddress? ParseForwarded(string value)
    {
        if (IPAddress.TryParse(value, out var address))
        {
            return address;
        }

        if (IPEndPoint.TryParse(value, out var endpoint))
        {
            return endpoint.Address;
        }

        return null;
    }
}

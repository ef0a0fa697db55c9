using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;
using RaptorFlow.Functions.ApiKeys;

namespace RaptorFlow.Functions.Webhooks;

/// <summary>
/// Which URLs an endpoint may have and which addresses a delivery may connect to (SSRF guard).
/// Never reachable: link-local (and with it the cloud metadata service, 169.254.169.254),
/// <c>fd00:ec2::254</c>, multicast, broadcast, unspecified and reserved ranges. Reachable only with
/// <see cref="WebhookSettings.AllowPrivateNetworks"/>: loopback, private (RFC 1918, unique-local
/// IPv6) and shared CGNAT space. IPv4-mapped and IPv4-compatible IPv6 forms are judged as the IPv4
/// address they carry.
/// </summary>
public sealed class WebhookAddresses(IOptions<WebhookSettings> settings)
{
    public const int MaxUrlLength = 2048;

    private static readonly CidrBlock[] NeverV4 = Blocks("0.0.0.0/8", "169.254.0.0/16", "192.0.0.0/24", "192.0.2.0/24", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4");

    private static readonly CidrBlock[] PrivateV4 = Blocks("10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16");

    private static readonly CidrBlock[] NeverV6 = Blocks("fe80::/10", "fec0::/10", "ff00::/8", "2001:db8::/32", "100::/64", "fd00:ec2::254/128");

    private static readonly CidrBlock[] PrivateV6 = Blocks("fc00::/7");

    public bool AllowPrivateNetworks => settings.Value.AllowPrivateNetworks;

    /// <summary>Why a delivery may not connect to <paramref name="address"/>, or null when it may.</summary>
    public string? RefusalOf(IPAddress address) => Classify(address) switch
    {
        AddressKind.Public => null,
        AddressKind.Private when AllowPrivateNetworks => null,
        AddressKind.Private => "a loopback or private-network address",
        _ => "a link-local, metadata, multicast or reserved address",
    };

    /// <summary>Checks an endpoint URL as given; null when acceptable, else the reason. Host names are judged again at each delivery.</summary>
    public string? RefusalOf(string? url)
    {
        if (string.IsNullOrWhiteSpace(url) || url.Length > MaxUrlLength || !Uri.TryCreate(url.Trim(), UriKind.Absolute, out var uri))
        {
            return $"Must be an absolute https URL of at most {MaxUrlLength} characters.";
        }

        // Uri accepts (and escapes) these, but the URL is stored and shown as given: they are typing errors or disguise.
        if (url.Trim().Any(c => char.IsControl(c) || char.IsWhiteSpace(c)))
        {
            return "Must not contain spaces or control characters.";
        }

        if (uri.UserInfo.Length > 0)
        {
            return "Must not carry a user name or password.";
        }

        if (uri.Fragment.Length > 0)
        {
            return "Must not carry a fragment.";
        }

        var address = IPAddress.TryParse(uri.IdnHost, out var literal) ? literal : null;
        var local = address is not null ? Classify(address) == AddressKind.Private : uri.IsLoopback;
        if (uri.Scheme == Uri.UriSchemeHttp && !(AllowPrivateNetworks && local))
        {
            return "Must use https.";
        }

        if (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp)
        {
            return "Must use https.";
        }

        if (address is not null && RefusalOf(address) is { } refusal)
        {
            return $"Names {refusal}, which webhooks may not reach.";
        }

        if (!AllowPrivateNetworks && uri.IsLoopback)
        {
            return "Names a loopback host, which webhooks may not reach.";
        }

        return null;
    }

    /// <summary>
    /// Resolves <paramref name="host"/> and returns the address to connect to: refused when any
    /// resolved address is refused, so a name cannot mix a public address with an internal one.
    /// </summary>
    public async Task<IPAddress> ResolveAsync(string host, CancellationToken cancellationToken)
    {
        var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, cancellationToken);
        if (addresses.Length == 0)
        {
            throw new SocketException((int)SocketError.HostNotFound);
        }

        foreach (var address in addresses)
        {
            if (RefusalOf(address) is { } refusal)
            {
                throw new RefusedAddressException($"The host resolves to {refusal}.");
            }
        }

        return addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? addresses[0];
    }

    /// <summary>
    /// The handler's connect step: the socket connects to the address just vetted, never to a second
    /// resolution of the name (DNS rebinding).
    /// </summary>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var address = await ResolveAsync(context.DnsEndPoint.Host, cancellationToken);
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(new IPEndPoint(address, context.DnsEndPoint.Port), cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private enum AddressKind
    {
        Public,
        Private,
        Never,
    }

    private static AddressKind Classify(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        else if (address.AddressFamily == AddressFamily.InterNetworkV6 && IsIPv4Compatible(address))
        {
            address = new IPAddress(address.GetAddressBytes()[12..]);
        }

        if (address.Equals(IPAddress.IPv6Loopback))
        {
            return AddressKind.Private;
        }

        if (address.Equals(IPAddress.IPv6None) || address.Equals(IPAddress.Broadcast))
        {
            return AddressKind.Never;
        }

        var (never, privateRanges) = address.AddressFamily == AddressFamily.InterNetwork ? (NeverV4, PrivateV4) : (NeverV6, PrivateV6);
        return never.Any(r => r.Contains(address)) ? AddressKind.Never
            : privateRanges.Any(r => r.Contains(address)) ? AddressKind.Private
            : AddressKind.Public;
    }

    /// <summary><c>::a.b.c.d</c> (deprecated, still parsed by some stacks); <c>::</c> and <c>::1</c> are not.</summary>
    private static bool IsIPv4Compatible(IPAddress address)
    {
        var bytes = address.GetAddressBytes();
        return bytes.AsSpan(0, 12).IndexOfAnyExcept((byte)0) < 0 && !(bytes.AsSpan(12, 3).IndexOfAnyExcept((byte)0) < 0 && bytes[15] <= 1);
    }

    private static CidrBlock[] Blocks(params string[] texts) =>
        [.. texts.Select(t => CidrBlock.TryParse(t, out var block) ? block! : throw new InvalidOperationException($"Not a CIDR block: {t}"))];
}

using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace RaptorFlow.Functions.ApiKeys;

/// <summary>An IPv4 or IPv6 block such as <c>203.0.113.0/24</c> or <c>2001:db8::/32</c>; a bare address is a /32 or /128.</summary>
public sealed class CidrBlock
{
    private readonly byte[] _network;

    private CidrBlock(byte[] network, int prefixLength, AddressFamily family)
    {
        _network = network;
        PrefixLength = prefixLength;
        Family = family;
    }

    public int PrefixLength { get; }
    public AddressFamily Family { get; }

    /// <summary>The canonical text: the network address (host bits cleared) and the prefix length.</summary>
    public override string ToString() => $"{new IPAddress(_network)}/{PrefixLength}";

    public static bool TryParse(string? text, out CidrBlock? block)
    {
        block = null;
        if (string.IsNullOrWhiteSpace(text) || text.Length > 64)
        {
            return false;
        }

        var slash = text.IndexOf('/', StringComparison.Ordinal);
        var addressText = slash < 0 ? text : text[..slash];
        // IPAddress.TryParse accepts shorthand such as "10" or "1.2.3"; require the full notation.
        if (!IPAddress.TryParse(addressText, out var address)
            || (address.AddressFamily == AddressFamily.InterNetwork && addressText.Count(c => c == '.') != 3)
            || (address.AddressFamily == AddressFamily.InterNetworkV6 && address.ScopeId != 0))
        {
            return false;
        }

        var bits = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        var prefix = bits;
        if (slash >= 0 && (!int.TryParse(text.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out prefix) || prefix > bits))
        {
            return false;
        }

        var bytes = address.GetAddressBytes();
        Mask(bytes, prefix);
        block = new CidrBlock(bytes, prefix, address.AddressFamily);
        return true;
    }

    public bool Contains(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6 && Family == AddressFamily.InterNetwork)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily != Family)
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[16];
        if (!address.TryWriteBytes(bytes, out var written) || written != _network.Length)
        {
            return false;
        }

        bytes = bytes[..written];
        Mask(bytes, PrefixLength);
        return bytes.SequenceEqual(_network);
    }

    private static void Mask(Span<byte> bytes, int prefix)
    {
        for (var i = 0; i < bytes.Length; i++)
        {
            var keep = Math.Clamp(prefix - (i * 8), 0, 8);
            bytes[i] &= (byte)(0xFF << (8 - keep));
        }
    }
}

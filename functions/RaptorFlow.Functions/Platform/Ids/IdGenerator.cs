using System.Security.Cryptography;

namespace RaptorFlow.Functions.Platform.Ids;

/// <summary>
/// Public ids: a short type prefix, then 26 characters of Crockford base32 holding a 48-bit
/// millisecond timestamp and 80 random bits (ULID layout), so ids sort by creation time.
/// </summary>
public sealed class IdGenerator(TimeProvider time)
{
    private const string Alphabet = "0123456789abcdefghjkmnpqrstvwxyz";

    public string New(string prefix) => $"{prefix}_{NewSortableId(time.GetUtcNow())}";

    public static string NewSortableId(DateTimeOffset at)
    {
        Span<byte> bytes = stackalloc byte[16];
        WriteTime(bytes, at);
        RandomNumberGenerator.Fill(bytes[6..]);
        return Encode(bytes);
    }

    /// <summary>
    /// A sortable id fixed by <paramref name="seed"/>: the same time and seed always give the same id,
    /// so a row keyed by it deduplicates repeated work (a webhook message per event).
    /// </summary>
    public static string Derived(string prefix, DateTimeOffset at, string seed)
    {
        Span<byte> bytes = stackalloc byte[16];
        WriteTime(bytes, at);
        SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(seed)).AsSpan(0, 10).CopyTo(bytes[6..]);
        return $"{prefix}_{Encode(bytes)}";
    }

    public static bool IsWellFormed(string? id, string prefix)
    {
        if (id is null || id.Length != prefix.Length + 27 || !id.StartsWith(prefix, StringComparison.Ordinal) || id[prefix.Length] != '_')
        {
            return false;
        }

        foreach (var c in id.AsSpan(prefix.Length + 1))
        {
            if (!Alphabet.Contains(c, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The 48-bit millisecond timestamp, big-endian, in the first six bytes.</summary>
    private static void WriteTime(Span<byte> bytes, DateTimeOffset at)
    {
        var ms = (ulong)at.ToUnixTimeMilliseconds();
        for (var i = 5; i >= 0; i--)
        {
            bytes[i] = (byte)(ms & 0xFF);
            ms >>= 8;
        }
    }

    private static string Encode(ReadOnlySpan<byte> bytes)
    {
        // 128 bits -> 26 base32 characters, most significant first.
        Span<char> chars = stackalloc char[26];
        var hi = ((UInt128)System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(bytes) << 64)
                 | System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]);
        for (var i = 25; i >= 0; i--)
        {
            chars[i] = Alphabet[(int)(hi & 31)];
            hi >>= 5;
        }

        return new string(chars);
    }
}

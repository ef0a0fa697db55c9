using System.IO.Hashing;
using System.Security.Cryptography;
using System.Text;

namespace RaptorFlow.Functions.ApiKeys;

/// <summary>
/// The secret a machine presents: <c>rf_live_</c> (or <c>rf_test_</c>), the key id's 26 characters,
/// <c>_</c>, 52 random characters (260 bits), then a 7-character CRC-32 of everything before it.
/// All in lower-case Crockford base32, so it survives copy and paste, a secret scanner can match
/// <c>rf_(live|test)_[0-9a-z]{26}_[0-9a-z]{59}</c> and confirm the checksum, and a typo is rejected
/// before any storage read. Only the SHA-256 of the whole string is ever stored.
/// </summary>
public static class ApiKeyToken
{
    public const string LivePrefix = "rf_live_";
    public const string TestPrefix = "rf_test_";
    public const int IdChars = 26;
    public const int SecretChars = 52;
    public const int ChecksumChars = 7;
    public const int Length = 8 + IdChars + 1 + SecretChars + ChecksumChars;

    /// <summary>The characters shown in listings to recognise a key: its mode and id part, never secret material.</summary>
    public const int DisplayPrefixLength = 8 + IdChars;

    private const string Alphabet = "0123456789abcdefghjkmnpqrstvwxyz";
    private const int IdStart = 8;
    private const int SecretStart = IdStart + IdChars + 1;
    private const int ChecksumStart = SecretStart + SecretChars;

    // Maps an ASCII character to its base32 value, or -1.
    private static readonly sbyte[] Values = BuildValues();

    /// <summary>A new secret for <paramref name="keyId"/> (<c>key_</c> + 26 characters).</summary>
    public static string Issue(string keyId, ApiKeyMode mode)
    {
        if (!Platform.Ids.IdGenerator.IsWellFormed(keyId, "key"))
        {
            throw new ArgumentException("Not a key id.", nameof(keyId));
        }

        var chars = new char[Length];
        (mode == ApiKeyMode.Live ? LivePrefix : TestPrefix).CopyTo(chars);
        keyId.AsSpan(4).CopyTo(chars.AsSpan(IdStart));
        chars[IdStart + IdChars] = '_';
        RandomNumberGenerator.GetItems(Alphabet.AsSpan(), chars.AsSpan(SecretStart, SecretChars));
        WriteChecksum(chars.AsSpan(0, ChecksumStart), chars.AsSpan(ChecksumStart));
        return new string(chars);
    }

    /// <summary>
    /// True when <paramref name="presented"/> has the shape and checksum of a key; gives the id part
    /// (the 26 characters after the prefix) without allocating. No storage, no hashing.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<char> presented, out ReadOnlySpan<char> idPart, out ApiKeyMode mode)
    {
        idPart = default;
        mode = default;
        if (presented.Length != Length || presented[SecretStart - 1] != '_')
        {
            return false;
        }

        if (presented.StartsWith(LivePrefix, StringComparison.Ordinal))
        {
            mode = ApiKeyMode.Live;
        }
        else if (presented.StartsWith(TestPrefix, StringComparison.Ordinal))
        {
            mode = ApiKeyMode.Test;
        }
        else
        {
            return false;
        }

        for (var i = IdStart; i < Length; i++)
        {
            if (i != SecretStart - 1 && ValueOf(presented[i]) < 0)
            {
                return false;
            }
        }

        Span<char> expected = stackalloc char[ChecksumChars];
        WriteChecksum(presented[..ChecksumStart], expected);
        if (!expected.SequenceEqual(presented[ChecksumStart..]))
        {
            return false;
        }

        idPart = presented.Slice(IdStart, IdChars);
        return true;
    }

    /// <summary>The key id (<c>key_…</c>) a well-formed key names.</summary>
    public static string KeyIdOf(ReadOnlySpan<char> idPart) => string.Concat("key_", idPart);

    /// <summary>SHA-256 of the key's ASCII characters, into <paramref name="destination"/> (32 bytes).</summary>
    public static void Hash(ReadOnlySpan<char> key, Span<byte> destination)
    {
        Span<byte> ascii = stackalloc byte[Length];
        var count = Encoding.ASCII.GetBytes(key.Length <= Length ? key : key[..Length], ascii);
        SHA256.HashData(ascii[..count], destination);
    }

    public static byte[] Hash(string key)
    {
        var hash = new byte[32];
        Hash(key.AsSpan(), hash);
        return hash;
    }

    /// <summary>The hash as it is stored and used as the index row's partition key.</summary>
    public static string HashHex(ReadOnlySpan<byte> hash) => Convert.ToHexStringLower(hash);

    private static void WriteChecksum(ReadOnlySpan<char> body, Span<char> destination)
    {
        Span<byte> ascii = stackalloc byte[ChecksumStart];
        Encoding.ASCII.GetBytes(body, ascii);
        var crc = Crc32.HashToUInt32(ascii);
        // 32 bits in 7 base32 characters, most significant first.
        ulong value = crc;
        for (var i = ChecksumChars - 1; i >= 0; i--)
        {
            destination[i] = Alphabet[(int)(value & 31)];
            value >>= 5;
        }
    }

    private static int ValueOf(char c) => c < Values.Length ? Values[c] : -1;

    private static sbyte[] BuildValues()
    {
        var values = new sbyte[128];
        Array.Fill(values, (sbyte)-1);
        for (var i = 0; i < Alphabet.Length; i++)
        {
            values[Alphabet[i]] = (sbyte)i;
        }

        return values;
    }
}

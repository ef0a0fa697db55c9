using System.Security.Cryptography;
using System.Text;

namespace RaptorFlow.Functions.Mail;

/// <summary>Provider-side ids derived from a message id, so every attempt at one message carries the same ones.</summary>
public static class MailIdentity
{
    /// <summary>The RFC 5322 Message-ID (without angle brackets): a hash of the id, since ids may hold characters a msg-id may not.</summary>
    public static string MessageIdHeader(string messageId, string fromAddress)
    {
        var at = fromAddress.LastIndexOf('@');
        var domain = at >= 0 && at < fromAddress.Length - 1 ? fromAddress[(at + 1)..] : "raptorflow.local";
        return $"{Hex(messageId)[..32]}@{domain}";
    }

    /// <summary>The ACS <c>Operation-Id</c>: a UUID (version 8, name-based) from the id's SHA-256, the same for every attempt.</summary>
    public static Guid OperationId(string messageId)
    {
        var bytes = SHA256.HashData(Encoding.UTF8.GetBytes(messageId)).AsSpan(0, 16).ToArray();
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x80);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes, bigEndian: true);
    }

    private static string Hex(string value) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)));
}

using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using RaptorFlow.Functions.Platform.Secrets;

namespace RaptorFlow.Functions.Razorpay;

public enum SignatureCheck
{
    Valid,
    Invalid,

    /// <summary>No webhook secret is configured: nothing can be verified.</summary>
    NotConfigured,
}

/// <summary>
/// Checks <c>X-Razorpay-Signature</c>: the hex HMAC-SHA256 of the raw body bytes under the webhook
/// secret, compared in constant time. During a rotation the previous secret is accepted for
/// <see cref="RazorpaySettings.WebhookSecretOverlap"/>; a mismatch forces one (rate-limited) refresh
/// so a secret rotated in Key Vault is honoured before the cache expires.
/// </summary>
public sealed class WebhookSignature(SecretStore secrets, IOptions<RazorpaySettings> settings, TimeProvider time)
{
    public async Task<SignatureCheck> VerifyAsync(ReadOnlyMemory<byte> body, string? signature, CancellationToken cancellationToken)
    {
        var secret = await secrets.GetAsync(RazorpaySecrets.WebhookSecret, cancellationToken);
        if (secret is null)
        {
            return SignatureCheck.NotConfigured;
        }

        if (!TryParseHex(signature, out var expected))
        {
            return SignatureCheck.Invalid;
        }

        if (Matches(secret, body.Span, expected))
        {
            return SignatureCheck.Valid;
        }

        var refreshed = await secrets.RefreshAsync(RazorpaySecrets.WebhookSecret, cancellationToken);
        return refreshed is not null && !ReferenceEquals(refreshed, secret) && Matches(refreshed, body.Span, expected)
            ? SignatureCheck.Valid
            : SignatureCheck.Invalid;
    }

    /// <summary>The signature Razorpay would send for <paramref name="body"/>.</summary>
    public static string Sign(string secret, ReadOnlySpan<byte> body) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(System.Text.Encoding.UTF8.GetBytes(secret), body));

    private bool Matches(SecretValue secret, ReadOnlySpan<byte> body, byte[] expected)
    {
        if (Check(secret.Current, body, expected))
        {
            return true;
        }

        return secret.Previous is not null
            && secret.RotatedAt is { } rotatedAt
            && time.GetUtcNow() < rotatedAt + settings.Value.WebhookSecretOverlap
            && Check(secret.Previous, body, expected);
    }

    private static bool Check(string secret, ReadOnlySpan<byte> body, byte[] expected)
    {
        Span<byte> actual = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(System.Text.Encoding.UTF8.GetBytes(secret), body, actual);
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }

    private static bool TryParseHex(string? signature, out byte[] bytes)
    {
        bytes = [];
        if (signature is null || signature.Length != HMACSHA256.HashSizeInBytes * 2)
        {
            return false;
        }

        try
        {
            bytes = Convert.FromHexString(signature);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}

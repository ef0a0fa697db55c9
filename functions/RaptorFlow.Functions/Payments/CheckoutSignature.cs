using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using RaptorFlow.Functions.Platform.Secrets;
using RaptorFlow.Functions.Razorpay;

namespace RaptorFlow.Functions.Payments;

/// <summary>
/// Checkout's success signature: lower-case hex HMAC-SHA256 with the key secret of
/// <c>order_id|payment_id</c>, or <c>payment_id|subscription_id</c> for a subscription's payment.
/// </summary>
public sealed class CheckoutSignature(SecretStore secrets)
{
    public async Task<bool> IsValidAsync(string first, string second, string signature, CancellationToken cancellationToken) =>
        Matches(await secrets.GetRequiredAsync(RazorpaySecrets.KeySecret, cancellationToken), $"{first}|{second}", signature);

    /// <summary>Compared in constant time, so the answer's timing tells nothing about the expected signature.</summary>
    public static bool Matches(string keySecret, string payload, string signature)
    {
        var expected = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(keySecret), Encoding.UTF8.GetBytes(payload)));
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.UTF8.GetBytes(signature));
    }
}

/// <summary>
/// Our refund ids, which are also Razorpay's idempotency keys for them: derived from the org, the
/// payment and the request's Idempotency-Key, so a retried request sends the same key.
/// </summary>
public static class RefundKeys
{
    public const string Prefix = "rfq_";

    public static string For(string orgId, string paymentId, string caller, string idempotencyKey) =>
        Prefix + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{orgId}|{paymentId}|{caller}|{idempotencyKey}")))[..32];

    public static string New() => Prefix + Guid.NewGuid().ToString("N");

    /// <summary>The key a refund we asked for carries in its notes; null for a refund made elsewhere (e.g. the dashboard).</summary>
    public static string? NotedOn(JsonElement refund) =>
        refund.Note(PaymentActivity.RefundNote) is { } noted && IsOurs(noted) ? noted : null;

    public static bool IsOurs(string key) =>
        key.Length == Prefix.Length + 32 && key.StartsWith(Prefix, StringComparison.Ordinal) && key[Prefix.Length..].All(char.IsAsciiHexDigitLower);
}

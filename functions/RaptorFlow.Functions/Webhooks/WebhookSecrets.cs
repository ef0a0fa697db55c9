using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.DataProtection;

namespace RaptorFlow.Functions.Webhooks;

/// <summary>
/// Signing secrets: issued as <c>whsec_</c> + base64 of 32 random bytes, kept at rest only as Data
/// Protection ciphertext bound to the org and endpoint, and used to sign as Standard Webhooks says.
/// </summary>
public sealed class WebhookSecrets(IDataProtectionProvider dataProtection)
{
    public const string Prefix = "whsec_";
    public const string ProtectionPurpose = "RaptorFlow.Webhooks.SigningSecret.v1";
    public const int SecretBytes = 32;

    public static string Issue() => Prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(SecretBytes));

    public string Protect(string orgId, string endpointId, string secret) => Protector(orgId, endpointId).Protect(secret);

    public string Unprotect(string orgId, string endpointId, string protectedSecret) => Protector(orgId, endpointId).Unprotect(protectedSecret);

    /// <summary>The secrets that sign now: the current one, and the previous one while its overlap lasts.</summary>
    public IReadOnlyList<string> SigningSecrets(WebhookEndpointRow endpoint, DateTimeOffset now)
    {
        var secrets = new List<string> { Unprotect(endpoint.OrgId, endpoint.EndpointId, endpoint.ProtectedSecret) };
        if (endpoint.ProtectedPreviousSecret is { Length: > 0 } previous && endpoint.PreviousSecretExpiresAt > now)
        {
            secrets.Add(Unprotect(endpoint.OrgId, endpoint.EndpointId, previous));
        }

        return secrets;
    }

    /// <summary>
    /// The <c>webhook-signature</c> header: <c>v1,&lt;base64 HMAC-SHA256 of "{id}.{timestamp}.{body}"&gt;</c>
    /// per secret, keyed by the base64-decoded bytes after <c>whsec_</c>, space-separated.
    /// </summary>
    public static string Signature(IEnumerable<string> secrets, string messageId, long timestamp, ReadOnlySpan<byte> body)
    {
        var head = Encoding.UTF8.GetBytes($"{messageId}.{timestamp}.");
        var content = new byte[head.Length + body.Length];
        head.CopyTo(content, 0);
        body.CopyTo(content.AsSpan(head.Length));
        return string.Join(' ', secrets.Select(s => "v1," + Convert.ToBase64String(HMACSHA256.HashData(KeyOf(s), content))));
    }

    private static byte[] KeyOf(string secret) => Convert.FromBase64String(secret.StartsWith(Prefix, StringComparison.Ordinal) ? secret[Prefix.Length..] : secret);

    private IDataProtector Protector(string orgId, string endpointId) => dataProtection.CreateProtector(ProtectionPurpose, orgId, endpointId);
}

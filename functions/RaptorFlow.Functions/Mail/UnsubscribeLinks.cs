using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;

namespace RaptorFlow.Functions.Mail;

/// <summary>
/// One-click unsubscribe links (RFC 8058): the token is Data Protection ciphertext under a purpose
/// bound to the org, so it cannot be made without the key ring and a token of one org does not
/// open for another.
/// </summary>
public sealed class UnsubscribeLinks(IDataProtectionProvider dataProtection, IOptions<MailLinkSettings> links)
{
    private const string Purpose = "RaptorFlow.Mail.Unsubscribe";
    private const string Payload = "notifications.email.off";

    public string UrlFor(string orgId) =>
        links.Value.Api($"{MailApi.UnsubscribePath(orgId)}&token={Uri.EscapeDataString(Protector(orgId).Protect(Payload))}");

    public bool IsValid(string orgId, string? token)
    {
        if (string.IsNullOrEmpty(token) || token.Length > 1000)
        {
            return false;
        }

        try
        {
            return Protector(orgId).Unprotect(token) == Payload;
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    private IDataProtector Protector(string orgId) => dataProtection.CreateProtector(Purpose, orgId);
}

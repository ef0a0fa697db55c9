using Microsoft.Extensions.Options;
using RaptorFlow.Functions.Organizations;
using RaptorFlow.Functions.Platform.Access;

namespace RaptorFlow.Functions.Mail;

/// <summary>
/// The invitation itself, to the invitee: the one mail that carries a secret (its accept token), so it
/// is written by the change that made the token, never from the event stream, where no token goes.
/// Its message id is the invitation's: a re-invite makes a new invitation, and so a new mail.
/// </summary>
public sealed class InvitationMail(Mailroom mailroom, IOptions<MailLinkSettings> links)
{
    public Task SendAsync(OrgRow org, string invitationId, string email, Role role, DateTimeOffset expiresAt, string token, Caller inviter, CancellationToken cancellationToken)
    {
        var values = new Dictionary<string, string>
        {
            ["inviter"] = inviter.Name ?? inviter.Email ?? $"Someone at {org.Name}",
            ["email"] = email,
            ["role"] = role.ToWire(),
            ["expires"] = MailFormat.Time(expiresAt),
        };
        var draft = new MailDraft(MailKinds.Invitation, invitationId, values, AcceptLink(token));
        return mailroom.SendAsync(org, draft, [new MailRecipient(email)], cancellationToken);
    }

    /// <summary>The console's accept screen with the token, as the console's own "copy link" makes it.</summary>
    public string AcceptLink(string token) => links.Value.Console($"accept?token={Uri.EscapeDataString(token)}");
}

using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using RaptorFlow.Functions.Events;
using RaptorFlow.Functions.Mail;
using RaptorFlow.Tests.Events;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Mail;

[Collection(MailCollection.Name)]
public sealed partial class InvitationMailTests(MailApp fixture)
{
    private const string HostileOrgName = "<script>alert('x')</script> Ünïcødé & Søns";

    private TestApp App => fixture.App;

    private static Uri Url(string path) => new(path, UriKind.Relative);

    private static async Task<(string Id, string Token)> InviteAsync(TestUser inviter, string orgId, string email, string role = "member")
    {
        using var response = await inviter.Client.PostAsJsonAsync(Url($"/api/v1/orgs/{orgId}/invitations"), new { email, role });
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        return (json.GetProperty("invitation").GetProperty("id").GetString()!, json.GetProperty("token").GetString()!);
    }

    [Fact]
    public async Task Invitation_mail_reaches_the_invitee_and_its_accept_link_joins_the_org()
    {
        var inviter = await App.SignInAsync(name: "<img src=x onerror=alert(1)> Mallory");
        var orgId = await inviter.CreateOrgAsync(HostileOrgName);
        var email = $"invitee-{Guid.NewGuid():N}@example.test";
        var (invitationId, _) = await InviteAsync(inviter, orgId, email);

        var mail = Assert.Single(await fixture.Mail.OfAsync(orgId, MailKinds.Invitation));
        Assert.Equal(email, Assert.Single(mail.To).Address);
        Assert.StartsWith(invitationId + ".", mail.MessageId, StringComparison.Ordinal);
        Assert.True(mail.Transactional);
        Assert.Null(mail.UnsubscribeUrl);
        Assert.DoesNotContain("<script>", mail.Html, StringComparison.Ordinal);
        Assert.DoesNotContain("<img", mail.Html, StringComparison.Ordinal);
        Assert.Contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; Ünïcødé &amp; Søns", mail.Html, StringComparison.Ordinal);
        Assert.Contains(HostileOrgName, mail.Text, StringComparison.Ordinal);
        Assert.Contains("Mallory", mail.Subject, StringComparison.Ordinal);
        Assert.DoesNotContain("<img", mail.Html, StringComparison.Ordinal);

        // The link the text part carries, as the invitee's mail app would open it.
        var link = AcceptLink().Match(mail.Text);
        Assert.True(link.Success, mail.Text);
        Assert.StartsWith(MailApp.ConsoleUrl + "#/accept?token=", link.Value, StringComparison.Ordinal);
        Assert.Contains(WebUtility.HtmlEncode(link.Value), mail.Html, StringComparison.Ordinal);
        var token = Uri.UnescapeDataString(link.Groups["token"].Value);

        var invitee = await App.SignInAsync(email: email);
        using var accepted = await invitee.Client.PostAsJsonAsync(Url("/api/v1/invitations/accept"), new { token });
        Assert.True(accepted.StatusCode == HttpStatusCode.OK, await accepted.Content.ReadAsStringAsync());
        Assert.Equal(orgId, (await accepted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("orgId").GetString());
    }

    [Fact]
    public async Task A_replaced_invitation_is_a_new_mail_with_the_new_token()
    {
        var (owner, orgId) = await App.NewOrgAsync();
        var email = $"invitee-{Guid.NewGuid():N}@example.test";
        var (first, firstToken) = await InviteAsync(owner, orgId, email);
        var (second, secondToken) = await InviteAsync(owner, orgId, email, "viewer");

        var mails = await fixture.Mail.OfAsync(orgId, MailKinds.Invitation);
        Assert.Equal(2, mails.Select(m => m.MessageId).Distinct().Count());
        Assert.Contains(Uri.EscapeDataString(firstToken), Assert.Single(mails, m => m.MessageId.StartsWith(first, StringComparison.Ordinal)).Text, StringComparison.Ordinal);
        var replacing = Assert.Single(mails, m => m.MessageId.StartsWith(second, StringComparison.Ordinal));
        Assert.Contains(Uri.EscapeDataString(secondToken), replacing.Text, StringComparison.Ordinal);
        Assert.DoesNotContain(Uri.EscapeDataString(firstToken), replacing.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Accepted_invitation_mails_the_inviter_once_however_often_its_event_is_delivered()
    {
        var (owner, orgId) = await App.NewOrgAsync();
        var email = $"invitee-{Guid.NewGuid():N}@example.test";
        var (_, token) = await InviteAsync(owner, orgId, email, "admin");
        var invitee = await App.SignInAsync(email: email);
        using var accepted = await invitee.Client.PostAsJsonAsync(Url("/api/v1/invitations/accept"), new { token });
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);

        var feedEvent = await App.SingleEventAsync(owner, orgId, EventTypes.InvitationAccepted);
        var redelivered = new DomainEvent(feedEvent.GetProperty("id").GetString()!, EventTypes.InvitationAccepted,
            feedEvent.GetProperty("createdAt").GetDateTimeOffset(), orgId, feedEvent.GetProperty("data"));
        await fixture.MailSubscriber.OnPublishedAsync(redelivered, default);
        await fixture.MailSubscriber.OnPublishedAsync(redelivered, default);

        var mails = await fixture.Mail.OfAsync(orgId, MailKinds.InvitationAccepted);
        Assert.Equal(3, mails.Count);
        var messageId = Assert.Single(mails.Select(m => m.MessageId).Distinct());
        Assert.StartsWith(redelivered.Id + ".", messageId, StringComparison.Ordinal);
        var mail = mails[0];
        Assert.Equal(owner.Email, Assert.Single(mail.To).Address);
        Assert.Contains(email, mail.Text, StringComparison.Ordinal);
        Assert.False(mail.Transactional);
        Assert.NotNull(mail.UnsubscribeUrl);

        // The token is the invitation mail's alone.
        Assert.DoesNotContain(Uri.EscapeDataString(token), mail.Html + mail.Text + mail.Subject, StringComparison.Ordinal);
        Assert.DoesNotContain(token, mail.Html + mail.Text + mail.Subject, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"https://\S+#/accept\?token=(?<token>\S+)")]
    private static partial Regex AcceptLink();
}

using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using RaptorFlow.Functions.Events;
using RaptorFlow.Functions.Invoices;
using RaptorFlow.Functions.Mail;
using RaptorFlow.Functions.Webhooks;
using RaptorFlow.Tests.Events;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Mail;

/// <summary>The org's opt-out of notification mail, set in the org or by the one-click unsubscribe link.</summary>
[Collection(MailCollection.Name)]
public sealed class NotificationOptOutTests(MailApp fixture)
{
    private TestApp App => fixture.App;

    private WebhookEndpointResponse DisabledEndpoint(string orgId)
    {
        var now = fixture.Clock.GetUtcNow();
        return new WebhookEndpointResponse("we_" + Guid.NewGuid().ToString("N")[..20], orgId, "https://hooks.customer.test/in", null, ["invoice.issued"],
            false, "every delivery failed for 5 days", now, false, 10, now.AddDays(-9), now, now.AddDays(-5), null);
    }

    private InvoiceResponse IssuedInvoice(string orgId)
    {
        var now = fixture.Clock.GetUtcNow();
        return new InvoiceResponse("bill_" + Guid.NewGuid().ToString("N")[..20], orgId, "RF/2026-27/000043", InvoiceStatus.Issued, now.AddMonths(-1), now, now, "2026-27",
            "pro", "INR", [], 1_000, 180, 1_180, 0, 1_180, null, null, null, null);
    }

    private async Task<string> EndpointDisabledUnsubscribeUrlAsync(string orgId)
    {
        await fixture.MailSubscriber.OnPublishedAsync(fixture.Event(orgId, EventTypes.WebhookEndpointDisabled, DisabledEndpoint(orgId)), default);
        return (await fixture.Mail.OfAsync(orgId, MailKinds.WebhookEndpointDisabled))[^1].UnsubscribeUrl!;
    }

    /// <summary>The unsubscribe URL as a mail app posts it (RFC 8058): to this app, with the one-click form body.</summary>
    private async Task<HttpResponseMessage> PostUnsubscribeAsync(string unsubscribeUrl)
    {
        var local = new Uri(unsubscribeUrl.Replace(MailApp.ApiUrl, "/", StringComparison.Ordinal), UriKind.Relative);
        using var anonymous = App.CreateClient();
        return await anonymous.PostAsync(local, new FormUrlEncodedContent([new("List-Unsubscribe", "One-Click")]));
    }

    private static async Task<bool> EmailNotificationsAsync(TestUser owner, string orgId) =>
        (await owner.Client.GetFromJsonAsync<JsonElement>(new Uri($"/api/v1/orgs/{orgId}", UriKind.Relative))).GetProperty("notifications").GetProperty("email").GetBoolean();

    [Fact]
    public async Task Opted_out_org_gets_no_notification_mail_but_still_gets_invitations_and_invoices()
    {
        var team = await fixture.NewTeamAsync();
        Assert.True(await EmailNotificationsAsync(team.Owner, team.OrgId));
        var before = (await fixture.Mail.ReadAsync()).Count;
        await MailApp.PatchOrgAsync(team.Owner, team.OrgId, new { notifications = new { email = false } });
        Assert.False(await EmailNotificationsAsync(team.Owner, team.OrgId));

        await fixture.MailSubscriber.OnPublishedAsync(fixture.Event(team.OrgId, EventTypes.WebhookEndpointDisabled, DisabledEndpoint(team.OrgId)), default);
        await fixture.MailSubscriber.OnPublishedAsync(fixture.Event(team.OrgId, EventTypes.InvoiceIssued, IssuedInvoice(team.OrgId)), default);
        var email = $"invitee-{Guid.NewGuid():N}@example.test";
        using var invited = await team.Owner.Client.PostAsJsonAsync(new Uri($"/api/v1/orgs/{team.OrgId}/invitations", UriKind.Relative), new { email, role = "viewer" });
        var token = (await invited.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString();
        var invitee = await App.SignInAsync(email: email);
        using var accepted = await invitee.Client.PostAsJsonAsync(new Uri("/api/v1/invitations/accept", UriKind.Relative), new { token });
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        await App.DispatchEventsAsync();

        var mails = (await fixture.Mail.ReadAsync()).Skip(before).Where(m => m.OrgId == team.OrgId).ToList();
        Assert.DoesNotContain(mails, m => !m.Transactional);
        Assert.Contains(mails, m => m.Kind == MailKinds.InvoiceIssued);
        Assert.Contains(mails, m => m.Kind == MailKinds.Invitation);

        // Turned on again, notifications flow again.
        await MailApp.PatchOrgAsync(team.Owner, team.OrgId, new { notifications = new { email = true } });
        await fixture.MailSubscriber.OnPublishedAsync(fixture.Event(team.OrgId, EventTypes.WebhookEndpointDisabled, DisabledEndpoint(team.OrgId)), default);
        Assert.Equal(new[] { team.Owner.Email, team.Admin.Email }.Order(), (await fixture.Mail.OfAsync(team.OrgId, MailKinds.WebhookEndpointDisabled)).Select(m => m.To[0].Address).Order());
    }

    [Fact]
    public async Task One_click_unsubscribe_turns_notifications_off_anonymously_and_again_changes_nothing()
    {
        var team = await fixture.NewTeamAsync();
        var url = await EndpointDisabledUnsubscribeUrlAsync(team.OrgId);
        var toldBefore = (await fixture.Mail.OfAsync(team.OrgId, MailKinds.WebhookEndpointDisabled)).Count;

        using (var first = await PostUnsubscribeAsync(url))
        {
            Assert.True(first.StatusCode == HttpStatusCode.NoContent, await first.Content.ReadAsStringAsync());
        }

        Assert.False(await EmailNotificationsAsync(team.Owner, team.OrgId));
        using (var again = await PostUnsubscribeAsync(url))
        {
            Assert.Equal(HttpStatusCode.NoContent, again.StatusCode);
        }

        await fixture.MailSubscriber.OnPublishedAsync(fixture.Event(team.OrgId, EventTypes.WebhookEndpointDisabled, DisabledEndpoint(team.OrgId)), default);
        Assert.Equal(toldBefore, (await fixture.Mail.OfAsync(team.OrgId, MailKinds.WebhookEndpointDisabled)).Count);
        var audit = await team.Owner.Client.GetFromJsonAsync<JsonElement>(new Uri($"/api/v1/orgs/{team.OrgId}/audit-events?action=org.updated", UriKind.Relative));
        Assert.Single(audit.GetProperty("data").EnumerateArray());
    }

    [Fact]
    public async Task Unsubscribe_token_cannot_be_forged_or_used_for_another_org()
    {
        var a = await fixture.NewTeamAsync();
        var b = await fixture.NewTeamAsync();
        var urlOfA = await EndpointDisabledUnsubscribeUrlAsync(a.OrgId);
        var tokenOfA = urlOfA[(urlOfA.IndexOf("token=", StringComparison.Ordinal) + "token=".Length)..];

        string[] refused =
        [
            $"{MailApp.ApiUrl}api/v1/mail/unsubscribe?org={b.OrgId}&token={tokenOfA}",
            $"{MailApp.ApiUrl}api/v1/mail/unsubscribe?org={a.OrgId}&token={tokenOfA[..^4]}AAAA",
            $"{MailApp.ApiUrl}api/v1/mail/unsubscribe?org={a.OrgId}&token=CfDJ8{Guid.NewGuid():N}",
            $"{MailApp.ApiUrl}api/v1/mail/unsubscribe?org={a.OrgId}",
        ];
        foreach (var url in refused)
        {
            using var response = await PostUnsubscribeAsync(url);
            await response.ShouldBeProblemAsync(HttpStatusCode.NotFound, "mail.unsubscribe_invalid");
        }

        Assert.True(await EmailNotificationsAsync(a.Owner, a.OrgId));
        Assert.True(await EmailNotificationsAsync(b.Owner, b.OrgId));
    }
}

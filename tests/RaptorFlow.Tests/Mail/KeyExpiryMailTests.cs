using System.Net;
using System.Net.Http.Json;
using RaptorFlow.Functions.Mail;
using RaptorFlow.Tests.ApiKeys;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Mail;

[Collection(MailCollection.Name)]
public sealed class KeyExpiryMailTests(MailApp fixture)
{
    private TestApp App => fixture.App;

    private Task<IssuedKey> CreateKeyAsync(TestUser creator, string orgId, TimeSpan expiresIn, string name) =>
        creator.CreateKeyAsync(orgId, new { name, capabilities = new[] { "org:read" }, expiresAt = fixture.Clock.GetUtcNow() + expiresIn });

    [Fact]
    public async Task Key_expiring_within_seven_days_is_mailed_to_its_creator_once_however_often_the_timer_runs()
    {
        var team = await fixture.NewTeamAsync();
        var soon = await CreateKeyAsync(team.Admin, team.OrgId, TimeSpan.FromDays(3), "deploy <bot>");
        var later = await CreateKeyAsync(team.Admin, team.OrgId, TimeSpan.FromDays(30), "later");
        var revoked = await CreateKeyAsync(team.Admin, team.OrgId, TimeSpan.FromDays(2), "revoked");
        using (var revoke = await team.Admin.Client.DeleteAsync(new Uri($"/api/v1/orgs/{team.OrgId}/api-keys/{revoked.Id}", UriKind.Relative)))
        {
            Assert.True(revoke.IsSuccessStatusCode, await revoke.Content.ReadAsStringAsync());
        }

        await fixture.RunKeyExpiryAsync(timerRuns: 2);
        await fixture.RunKeyExpiryAsync();
        fixture.Clock.Advance(TimeSpan.FromDays(1));
        await fixture.RunKeyExpiryAsync();

        var mail = Assert.Single(await fixture.Mail.OfAsync(team.OrgId, MailKinds.ApiKeyExpiring));
        Assert.Equal(team.Admin.Email, Assert.Single(mail.To).Address);
        Assert.Contains(soon.Id, mail.Text, StringComparison.Ordinal);
        Assert.Contains("deploy &lt;bot&gt;", mail.Html, StringComparison.Ordinal);
        Assert.Contains($"{MailApp.ConsoleUrl}#/orgs/{team.OrgId}/api-keys", mail.Text, StringComparison.Ordinal);
        Assert.False(mail.Transactional);
        Assert.NotNull(mail.UnsubscribeUrl);
        foreach (var secret in new[] { soon.Secret, later.Secret, revoked.Secret })
        {
            Assert.DoesNotContain(secret, mail.Html + mail.Text + mail.Subject, StringComparison.Ordinal);
        }

        // Three weeks on, the later key's week has come: it too is told once.
        fixture.Clock.Advance(TimeSpan.FromDays(22));
        await fixture.RunKeyExpiryAsync();
        await fixture.RunKeyExpiryAsync();
        var both = await fixture.Mail.OfAsync(team.OrgId, MailKinds.ApiKeyExpiring);
        Assert.Equal(2, both.Count);
        Assert.Contains(later.Id, both[1].Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Key_whose_creator_left_is_mailed_to_the_owners_and_admins()
    {
        var team = await fixture.NewTeamAsync();
        await CreateKeyAsync(team.Admin, team.OrgId, TimeSpan.FromDays(5), "orphan");
        using (var removed = await team.Owner.Client.DeleteAsync(new Uri($"/api/v1/orgs/{team.OrgId}/members/{team.Admin.Id}", UriKind.Relative)))
        {
            Assert.True(removed.IsSuccessStatusCode, await removed.Content.ReadAsStringAsync());
        }

        await fixture.RunKeyExpiryAsync();
        var mail = Assert.Single(await fixture.Mail.OfAsync(team.OrgId, MailKinds.ApiKeyExpiring));
        Assert.Equal(team.Owner.Email, Assert.Single(mail.To).Address);
    }

    [Fact]
    public async Task Opted_out_org_gets_no_key_expiry_mail()
    {
        var team = await fixture.NewTeamAsync();
        await CreateKeyAsync(team.Owner, team.OrgId, TimeSpan.FromDays(1), "quiet");
        await MailApp.PatchOrgAsync(team.Owner, team.OrgId, new { notifications = new { email = false } });
        await fixture.RunKeyExpiryAsync();
        Assert.Empty(await fixture.Mail.OfAsync(team.OrgId, MailKinds.ApiKeyExpiring));
    }
}

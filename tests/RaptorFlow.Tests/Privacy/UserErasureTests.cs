using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using RaptorFlow.Functions.Mail;
using RaptorFlow.Functions.Privacy;
using RaptorFlow.Tests.Fixtures;
using static RaptorFlow.Tests.Privacy.ExportTestKit;

namespace RaptorFlow.Tests.Privacy;

public sealed class UserErasureTests : IAsyncLifetime
{
    private TestApp _app = null!;

    public async Task InitializeAsync() => _app = await TestApp.StartAsync(Settings(), hostDrivesTriggers: true);

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task Erasure_is_refused_while_the_user_is_last_owner_and_then_leaves_no_email_or_name_of_theirs_in_storage()
    {
        var (owner, orgId) = await _app.NewOrgAsync();
        var name = "Zeynep Quillfeather " + Guid.NewGuid().ToString("N")[..8];
        var user = await _app.SignInAsync(name: name);
        await owner.AddMemberAsync(orgId, user, "admin");
        using (var invite = await user.PostAsync($"/api/v1/orgs/{orgId}/invitations", body: new { email = $"colleague-{Guid.NewGuid():N}@example.test", role = "viewer" }))
        {
            Assert.Equal(HttpStatusCode.Created, invite.StatusCode);
        }

        var (otherOwner, otherOrg) = await _app.NewOrgAsync();
        using (var pending = await otherOwner.PostAsync($"/api/v1/orgs/{otherOrg}/invitations", body: new { email = user.Email, role = "member" }))
        {
            Assert.Equal(HttpStatusCode.Created, pending.StatusCode);
        }

        var ownOrg = await user.CreateOrgAsync("Zeynep's own");
        await user.RequestExportAsync("/api/v1/me/exports");
        await _app.DrainQueueAsync(WriteExport.FunctionName);
        var ledgerBefore = await owner.GetJsonAsync($"/api/v1/orgs/{orgId}/ledger/trial-balance");
        var invoicesBefore = await owner.GetJsonAsync($"/api/v1/orgs/{orgId}/invoices");

        using (var refused = await user.Client.DeleteAsync(Url("/api/v1/me")))
        {
            var problem = await refused.ShouldBeProblemAsync(HttpStatusCode.Conflict, "member.last_owner");
            Assert.Equal([ownOrg], problem.GetProperty("errors").GetProperty("orgIds").EnumerateArray().Select(o => o.GetString()));
        }

        Assert.Contains(user.Email!, await _app.StoredTextAsync(), StringComparison.OrdinalIgnoreCase);
        using (var deleted = await user.Client.DeleteAsync(Url($"/api/v1/orgs/{ownOrg}")))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        using var erased = await user.Client.DeleteAsync(Url("/api/v1/me"));
        Assert.True(erased.StatusCode == HttpStatusCode.OK, await erased.Content.ReadAsStringAsync());
        var result = await erased.Content.ReadFromJsonAsync<JsonElement>();
        var pseudonym = result.GetProperty("pseudonym").GetString()!;
        Assert.Equal($"user:{UserErasure.PseudonymOf(user.Id)}", pseudonym);
        Assert.Equal(new[] { orgId, otherOrg, ownOrg }.Order(), result.GetProperty("orgs").EnumerateArray().Select(o => o.GetString()!).Order());

        // Mail queued before the erasure (the invitation to them) is sent, as the host would.
        await _app.DrainQueueAsync(SendEmail.FunctionName);
        var stored = await _app.StoredTextAsync();
        Assert.DoesNotContain(user.Email!, stored, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(name, stored, StringComparison.OrdinalIgnoreCase);

        var members = (await owner.GetJsonAsync($"/api/v1/orgs/{orgId}/members")).GetProperty("data").EnumerateArray().Select(m => m.GetProperty("userId").GetString());
        Assert.DoesNotContain(user.Id, members);
        Assert.Empty((await otherOwner.GetJsonAsync($"/api/v1/orgs/{otherOrg}/invitations")).GetProperty("data").EnumerateArray());
        foreach (var org in new[] { (owner, orgId), (otherOwner, otherOrg) })
        {
            var events = (await org.Item1.GetJsonAsync($"/api/v1/orgs/{org.Item2}/audit-events?action=user.erased")).GetProperty("data");
            Assert.Equal(UserErasure.PseudonymOf(user.Id), Assert.Single(events.EnumerateArray()).GetProperty("target").GetProperty("id").GetString());
        }

        Assert.Equal(WithoutTimes(ledgerBefore), WithoutTimes(await owner.GetJsonAsync($"/api/v1/orgs/{orgId}/ledger/trial-balance")));
        Assert.Equal(invoicesBefore.GetRawText(), (await owner.GetJsonAsync($"/api/v1/orgs/{orgId}/invoices")).GetRawText());

        using var again = await user.Client.DeleteAsync(Url("/api/v1/me"));
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    }
}

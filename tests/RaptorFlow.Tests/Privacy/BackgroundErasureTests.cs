using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using RaptorFlow.Functions.Hosting;
using RaptorFlow.Functions.Mail;
using RaptorFlow.Functions.Privacy;
using RaptorFlow.Tests.Fixtures;
using static RaptorFlow.Tests.Privacy.ExportTestKit;

namespace RaptorFlow.Tests.Privacy;

/// <summary>Erasures above the inline limit, run by the <c>EraseUser</c> queue function as the Functions host invokes it.</summary>
public sealed class BackgroundErasureTests : IAsyncLifetime
{
    private TestApp _app = null!;

    public async Task InitializeAsync() =>
        _app = await TestApp.StartAsync(Settings(new Dictionary<string, string?> { ["Erasure:InlineOrgLimit"] = "2" }), hostDrivesTriggers: true);

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task A_user_in_more_orgs_than_the_inline_limit_gets_202_and_a_job_that_leaves_no_email_or_name_of_theirs_in_storage()
    {
        var large = await LargeUserAsync();
        var ledgerBefore = await large.Owner.GetJsonAsync($"/api/v1/orgs/{large.Orgs[0]}/ledger/trial-balance");
        var invoicesBefore = await large.Owner.GetJsonAsync($"/api/v1/orgs/{large.Orgs[0]}/invoices");

        var job = await EraseAsync(large.User);
        Assert.Equal("queued", job.GetProperty("status").GetString());
        Assert.Equal(0, job.GetProperty("orgsDone").GetInt32());
        Assert.Equal(large.Orgs.Order(), job.GetProperty("orgs").EnumerateArray().Select(o => o.GetString()!).Order());
        Assert.Equal($"user:{UserErasure.PseudonymOf(large.User.Id)}", job.GetProperty("pseudonym").GetString());
        var jobId = job.GetProperty("id").GetString()!;
        Assert.Contains(large.User.Email!, await _app.StoredTextAsync(), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(jobId, (await EraseAsync(large.User)).GetProperty("id").GetString());

        Assert.Single(await _app.DrainQueueAsync(EraseUser.FunctionName));

        var done = await large.User.GetJsonAsync($"/api/v1/me/erasures/{jobId}");
        Assert.Equal("done", done.GetProperty("status").GetString());
        Assert.Equal(large.Orgs.Count, done.GetProperty("orgsDone").GetInt32());
        await AssertErasedAsync(large);
        Assert.Equal(WithoutTimes(ledgerBefore), WithoutTimes(await large.Owner.GetJsonAsync($"/api/v1/orgs/{large.Orgs[0]}/ledger/trial-balance")));
        Assert.Equal(invoicesBefore.GetRawText(), (await large.Owner.GetJsonAsync($"/api/v1/orgs/{large.Orgs[0]}/invoices")).GetRawText());
    }

    [Fact]
    public async Task Duplicated_and_redelivered_erasure_messages_erase_once()
    {
        var large = await LargeUserAsync();
        var jobId = (await EraseAsync(large.User)).GetProperty("id").GetString()!;
        var text = Assert.Single((await ErasureQueue().PeekMessagesAsync(32)).Value).Body.ToString();

        var duplicates = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => _app.InvokeAsync(EraseUser.FunctionName, HostInvocations.QueueTextEnvelope(text))));
        foreach (var response in duplicates)
        {
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
            response.Dispose();
        }

        Assert.Single(await _app.DrainQueueAsync(EraseUser.FunctionName));
        using (var redelivered = await _app.InvokeAsync(EraseUser.FunctionName, HostInvocations.QueueTextEnvelope(text, dequeueCount: 2)))
        {
            Assert.True(redelivered.IsSuccessStatusCode, await redelivered.Content.ReadAsStringAsync());
        }

        var done = await large.User.GetJsonAsync($"/api/v1/me/erasures/{jobId}");
        Assert.Equal("done", done.GetProperty("status").GetString());
        Assert.Equal(large.Orgs.Count, done.GetProperty("orgsDone").GetInt32());
        await AssertErasedAsync(large);
    }

    [Fact]
    public async Task An_erasure_job_stopped_midway_finishes_on_redelivery_without_repeating_what_it_did()
    {
        var large = await LargeUserAsync();
        var jobId = (await EraseAsync(large.User)).GetProperty("id").GetString()!;
        var book = _app.Services.GetRequiredService<ErasureBook>();
        var job = (await book.FindAsync(UserErasure.PseudonymOf(large.User.Id), jobId, CancellationToken.None))!;

        // The first run records its first org, then dies after rewriting the second but before recording it.
        await Assert.ThrowsAsync<TimeoutException>(() => _app.Services.GetRequiredService<UserErasure>().CarryOutAsync(
            new ErasureSubject(large.User.Id, large.User.Email, large.Name), job.OrgList, 0, job.JobId, job.CreatedAt,
            async orgsDone =>
            {
                if (orgsDone > 1)
                {
                    throw new TimeoutException("The instance stopped.");
                }

                job = await book.UpdateAsync(job, j => Running(j, orgsDone), CancellationToken.None);
            },
            CancellationToken.None));
        var stopped = await large.User.GetJsonAsync($"/api/v1/me/erasures/{jobId}");
        Assert.Equal(("running", 1), (stopped.GetProperty("status").GetString(), stopped.GetProperty("orgsDone").GetInt32()));

        Assert.Single(await _app.DrainQueueAsync(EraseUser.FunctionName));

        Assert.Equal("done", (await large.User.GetJsonAsync($"/api/v1/me/erasures/{jobId}")).GetProperty("status").GetString());
        await AssertErasedAsync(large);
    }

    [Fact]
    public async Task An_erasure_job_is_not_found_for_another_user_and_stays_readable_to_its_user_once_erased()
    {
        var large = await LargeUserAsync();
        var jobId = (await EraseAsync(large.User)).GetProperty("id").GetString()!;
        using (var other = await large.Owner.Client.GetAsync(Url($"/api/v1/me/erasures/{jobId}")))
        {
            await other.ShouldBeProblemAsync(HttpStatusCode.NotFound, "erasure.not_found");
        }

        Assert.Single(await _app.DrainQueueAsync(EraseUser.FunctionName));
        using (var other = await large.Owner.Client.GetAsync(Url($"/api/v1/me/erasures/{jobId}")))
        {
            await other.ShouldBeProblemAsync(HttpStatusCode.NotFound, "erasure.not_found");
        }

        Assert.Equal("done", (await large.User.GetJsonAsync($"/api/v1/me/erasures/{jobId}")).GetProperty("status").GetString());
        using var malformed = await large.User.Client.GetAsync(Url("/api/v1/me/erasures/not-an-id"));
        await malformed.ShouldBeProblemAsync(HttpStatusCode.NotFound, "erasure.not_found");
    }

    [Fact]
    public async Task An_erasure_job_that_fails_for_good_leaves_no_email_or_name_of_the_user_in_storage_its_poison_message_included()
    {
        var large = await LargeUserAsync();
        var jobId = (await EraseAsync(large.User)).GetProperty("id").GetString()!;
        var book = _app.Services.GetRequiredService<ErasureBook>();
        var job = (await book.FindAsync(UserErasure.PseudonymOf(large.User.Id), jobId, CancellationToken.None))!;
        // After the user's orgs, one whose audit log cannot be written (a key Table Storage refuses): every attempt fails there.
        await book.UpdateAsync(job, j => Unwritable(j), CancellationToken.None);
        var queue = ErasureQueue();
        var message = Assert.Single((await queue.ReceiveMessagesAsync(32)).Value);
        await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
        var text = message.Body.ToString();

        for (var attempt = 1; attempt <= 5; attempt++)
        {
            using var failed = await _app.InvokeAsync(EraseUser.FunctionName, HostInvocations.QueueTextEnvelope(text, attempt));
            Assert.False(failed.IsSuccessStatusCode);
        }

        // The host then moves the message, as it is, to the poison queue.
        var poison = _app.Storage.Queue(queue.Name + "-poison");
        await poison.CreateIfNotExistsAsync();
        await poison.SendMessageAsync(text);

        var status = await large.User.GetJsonAsync($"/api/v1/me/erasures/{jobId}");
        Assert.Equal(("failed", large.Orgs.Count), (status.GetProperty("status").GetString(), status.GetProperty("orgsDone").GetInt32()));
        await _app.DrainQueueAsync(SendEmail.FunctionName);
        var stored = await _app.StoredTextAsync();
        Assert.Contains(text, stored, StringComparison.Ordinal);
        Assert.DoesNotContain(large.User.Email!, stored, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(large.Name, stored, StringComparison.OrdinalIgnoreCase);
    }

    private static bool Unwritable(ErasureJobRow job)
    {
        job.Orgs += " org/unwritable";
        return true;
    }

    private static bool Running(ErasureJobRow job, int orgsDone)
    {
        job.Status = ErasureStatus.Running;
        job.OrgsDone = orgsDone;
        return true;
    }

    private Azure.Storage.Queues.QueueClient ErasureQueue() =>
        _app.Storage.Queue(_app.Services.GetServices<FunctionDeclaration>().Single(d => d.Name == EraseUser.FunctionName).QueueName!);

    /// <summary>DELETE /me, expecting a background job; returns it.</summary>
    private static async Task<JsonElement> EraseAsync(TestUser user)
    {
        using var response = await user.Client.DeleteAsync(Url("/api/v1/me"));
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        var job = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal($"/api/v1/me/erasures/{job.GetProperty("id").GetString()}", response.Headers.Location?.ToString());
        return job;
    }

    /// <summary>A user who is an admin of one org (where they invited someone), a member of another, and invited to a third.</summary>
    private async Task<LargeUser> LargeUserAsync()
    {
        var (owner, adminOf) = await _app.NewOrgAsync();
        var name = "Ilsabet Marrowgate " + Guid.NewGuid().ToString("N")[..8];
        var user = await _app.SignInAsync(name: name);
        await owner.AddMemberAsync(adminOf, user, "admin");
        using (var invite = await user.PostAsync($"/api/v1/orgs/{adminOf}/invitations", body: new { email = $"colleague-{Guid.NewGuid():N}@example.test", role = "viewer" }))
        {
            Assert.Equal(HttpStatusCode.Created, invite.StatusCode);
        }

        var (memberOwner, memberOf) = await _app.NewOrgAsync();
        await memberOwner.AddMemberAsync(memberOf, user, "member");
        var (inviter, invitedTo) = await _app.NewOrgAsync();
        using (var pending = await inviter.PostAsync($"/api/v1/orgs/{invitedTo}/invitations", body: new { email = user.Email, role = "member" }))
        {
            Assert.Equal(HttpStatusCode.Created, pending.StatusCode);
        }

        return new LargeUser(user, name, owner, [adminOf, memberOf, invitedTo], [owner, memberOwner, inviter]);
    }

    private async Task AssertErasedAsync(LargeUser large)
    {
        // Mail queued before the erasure (the invitation to them) is sent, as the host would.
        await _app.DrainQueueAsync(SendEmail.FunctionName);
        var stored = await _app.StoredTextAsync();
        Assert.DoesNotContain(large.User.Email!, stored, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(large.Name, stored, StringComparison.OrdinalIgnoreCase);
        var members = (await large.Owner.GetJsonAsync($"/api/v1/orgs/{large.Orgs[0]}/members")).GetProperty("data").EnumerateArray().Select(m => m.GetProperty("userId").GetString());
        Assert.DoesNotContain(large.User.Id, members);
        Assert.Empty((await large.Owners[2].GetJsonAsync($"/api/v1/orgs/{large.Orgs[2]}/invitations")).GetProperty("data").EnumerateArray());
        for (var i = 0; i < large.Orgs.Count; i++)
        {
            var events = (await large.Owners[i].GetJsonAsync($"/api/v1/orgs/{large.Orgs[i]}/audit-events?action=user.erased")).GetProperty("data");
            Assert.Equal(UserErasure.PseudonymOf(large.User.Id), Assert.Single(events.EnumerateArray()).GetProperty("target").GetProperty("id").GetString());
        }
    }

    private sealed record LargeUser(TestUser User, string Name, TestUser Owner, IReadOnlyList<string> Orgs, IReadOnlyList<TestUser> Owners);
}

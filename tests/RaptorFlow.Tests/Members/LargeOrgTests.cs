using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Azure.Data.Tables;
using RaptorFlow.Functions.Organizations;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Members;

/// <summary>
/// Members live in their org's partition with no cap; listing pages through the partition and a
/// role change touches only the member row (and the org row when ownership moves). Seeded
/// straight into storage so the test stays quick; the code paths are the ones any size takes.
/// </summary>
public sealed class LargeOrgTests(SignedInAppFixture fixture) : IClassFixture<SignedInAppFixture>
{
    private const int SeededMembers = 1_000;

    private TestApp App => fixture.App;

    private static Uri Url(string path) => new(path, UriKind.Relative);

    [Fact]
    public async Task An_org_with_many_members_lists_pages_and_changes_roles()
    {
        var owner = await App.SignInAsync();
        var orgId = await owner.CreateOrgAsync("Large");
        var table = App.Storage.Table(OrgTable.Name);
        var now = DateTimeOffset.UtcNow;
        var seeded = Enumerable.Range(0, SeededMembers).Select(i => $"bulk-{i:D6}").ToList();
        foreach (var chunk in seeded.Chunk(100))
        {
            await table.SubmitTransactionAsync(chunk.Select(id => new TableTransactionAction(TableTransactionActionType.Add, new MemberRow
            {
                PartitionKey = orgId,
                RowKey = OrgTable.MemberRowKey(id),
                UserId = id,
                Role = "viewer",
                JoinedAt = now,
                UpdatedAt = now,
            })));
        }

        var listed = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await owner.Client.GetFromJsonAsync<JsonElement>(Url($"/api/v1/orgs/{orgId}/members?limit=100"
                + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor))));
            var data = page.GetProperty("data");
            Assert.True(data.GetArrayLength() <= 100);
            listed.AddRange(data.EnumerateArray().Select(m => m.GetProperty("userId").GetString()!));
            cursor = page.GetProperty("nextCursor").GetString();
            pages++;
        }
        while (cursor is not null);

        Assert.Equal(SeededMembers + 1, listed.Count);
        Assert.Equal(listed.Count, listed.Distinct().Count());
        Assert.True(pages >= 10);

        var target = seeded[SeededMembers / 2];
        using var promoted = await owner.Client.PatchAsJsonAsync(Url($"/api/v1/orgs/{orgId}/members/{target}"), new { role = "owner" });
        Assert.Equal(HttpStatusCode.OK, promoted.StatusCode);
        using var stepDown = await owner.Client.PatchAsJsonAsync(Url($"/api/v1/orgs/{orgId}/members/{owner.Id}"), new { role = "admin" });
        Assert.Equal(HttpStatusCode.OK, stepDown.StatusCode);
        var newOwner = await App.SignInAsync(target);
        using var lastOwner = await newOwner.Client.PatchAsJsonAsync(Url($"/api/v1/orgs/{orgId}/members/{target}"), new { role = "viewer" });
        await lastOwner.ShouldBeProblemAsync(HttpStatusCode.Conflict, "member.last_owner");
    }
}

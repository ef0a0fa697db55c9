using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using RaptorFlow.Tests.ApiKeys;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Organizations;

public sealed class OrganizationsTests(SignedInAppFixture fixture) : IClassFixture<SignedInAppFixture>
{
    private TestApp App => fixture.App;

    private static Uri Url(string path) => new(path, UriKind.Relative);

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private static string UniqueSlug() => "acme-" + Guid.NewGuid().ToString("N")[..10];

    [Fact]
    public async Task Creating_an_org_makes_the_caller_its_owner()
    {
        var user = await App.SignInAsync();
        var slug = UniqueSlug();
        using var created = await user.Client.PostAsJsonAsync(Url("/api/v1/orgs"), new { name = "  Acme Rockets  ", slug });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var org = await created.Content.ReadFromJsonAsync<JsonElement>();
        var id = org.GetProperty("id").GetString()!;
        Assert.StartsWith("org_", id, StringComparison.Ordinal);
        Assert.Equal("Acme Rockets", org.GetProperty("name").GetString());
        Assert.Equal(slug, org.GetProperty("slug").GetString());
        Assert.Equal("owner", org.GetProperty("role").GetString());
        Assert.Equal($"/api/v1/orgs/{id}", created.Headers.Location?.ToString());
        Assert.NotNull(created.Headers.ETag);

        var me = await user.Client.GetFromJsonAsync<JsonElement>(Url("/api/v1/me"));
        var mine = Assert.Single(me.GetProperty("orgs").EnumerateArray());
        Assert.Equal(id, mine.GetProperty("id").GetString());
        Assert.Equal("owner", mine.GetProperty("role").GetString());

        var members = await user.Client.GetFromJsonAsync<JsonElement>(Url($"/api/v1/orgs/{id}/members"));
        var owner = Assert.Single(members.GetProperty("data").EnumerateArray());
        Assert.Equal(user.Id, owner.GetProperty("userId").GetString());
        Assert.Equal("owner", owner.GetProperty("role").GetString());
    }

    [Fact]
    public async Task Slug_is_generated_from_the_name_when_absent()
    {
        var user = await App.SignInAsync();
        using var first = await user.Client.PostAsJsonAsync(Url("/api/v1/orgs"), new { name = "Café Ünïcode & Co" });
        using var second = await user.Client.PostAsJsonAsync(Url("/api/v1/orgs"), new { name = "Café Ünïcode & Co" });
        var a = (await first.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("slug").GetString()!;
        var b = (await second.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("slug").GetString()!;
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        Assert.Matches("^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$", a);
        Assert.StartsWith("cafe-unicode-co", b, StringComparison.Ordinal);
        Assert.NotEqual(a, b);
    }

    [Fact]
    public async Task Taken_slug_is_a_409_and_creates_nothing()
    {
        var user = await App.SignInAsync();
        var other = await App.SignInAsync();
        var slug = UniqueSlug();
        using var first = await user.Client.PostAsJsonAsync(Url("/api/v1/orgs"), new { name = "First", slug });
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);

        using var second = await other.Client.PostAsJsonAsync(Url("/api/v1/orgs"), new { name = "Second", slug });
        await second.ShouldBeProblemAsync(HttpStatusCode.Conflict, "org.slug_taken");
        var me = await other.Client.GetFromJsonAsync<JsonElement>(Url("/api/v1/me"));
        Assert.Equal(0, me.GetProperty("orgs").GetArrayLength());
    }

    [Theory]
    [InlineData("{\"name\":\"\"}", "name")]
    [InlineData("{\"name\":\"   \"}", "name")]
    [InlineData("{}", "name")]
    [InlineData("{\"name\":\"ok\",\"slug\":\"UPPER\"}", "slug")]
    [InlineData("{\"name\":\"ok\",\"slug\":\"ab\"}", "slug")]
    [InlineData("{\"name\":\"ok\",\"slug\":\"-dash-start\"}", "slug")]
    [InlineData("{\"name\":\"ok\",\"slug\":\"a-very-long-slug-that-is-over-forty-chars-long\"}", "slug")]
    [InlineData("{\"name\":\"tab\\tinside\"}", "name")]
    [InlineData("{\"name\":\"Invoices\\u202Efdp.exe\"}", "name")]
    [InlineData("{\"name\":\"Acme \\u2066hidden\\u2069\"}", "name")]
    [InlineData("{\"name\":\"\\u200B\\u200B\"}", "name")]
    [InlineData("{\"name\":\" \\uFEFF \"}", "name")]
    public async Task Invalid_org_fields_are_listed(string body, string field)
    {
        var user = await App.SignInAsync();
        using var response = await user.Client.PostAsync(Url("/api/v1/orgs"), Json(body));
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation.failed");
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _));
    }

    [Theory]
    [InlineData("{\"name\":")]
    [InlineData("{\"name\":42}")]
    [InlineData("{\"name\":\"x\",\"owner\":\"me\"}")]
    public async Task Malformed_or_unknown_json_is_a_400(string body)
    {
        var user = await App.SignInAsync();
        using var response = await user.Client.PostAsync(Url("/api/v1/orgs"), Json(body));
        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "request.malformed_json");
    }

    [Fact]
    public async Task A_billing_email_with_a_control_character_is_a_400_and_changes_nothing()
    {
        var user = await App.SignInAsync();
        var id = await user.CreateOrgAsync("Billed");
        using var response = await user.Client.PatchAsJsonAsync(Url($"/api/v1/orgs/{id}"), new { billingEmail = "accounts\u0001@example.test", name = "Renamed" });
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation.failed");
        Assert.True(problem.GetProperty("errors").TryGetProperty("billingEmail", out _));
        var org = await user.Client.GetFromJsonAsync<JsonElement>(Url($"/api/v1/orgs/{id}"));
        Assert.Equal("Billed", org.GetProperty("name").GetString());
        Assert.False(org.TryGetProperty("billingEmail", out _));
    }

    [Fact]
    public async Task Over_long_name_is_rejected()
    {
        var user = await App.SignInAsync();
        using var response = await user.Client.PostAsJsonAsync(Url("/api/v1/orgs"), new { name = new string('x', 101) });
        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation.failed");
    }

    [Fact]
    public async Task Patch_honours_if_match()
    {
        var user = await App.SignInAsync();
        var id = await user.CreateOrgAsync("Before");
        using var get = await user.Client.GetAsync(Url($"/api/v1/orgs/{id}"));
        var etag = get.Headers.ETag!;

        using var patch = new HttpRequestMessage(HttpMethod.Patch, Url($"/api/v1/orgs/{id}")) { Content = JsonContent.Create(new { name = "After" }) };
        patch.Headers.IfMatch.Add(etag);
        using var patched = await user.Client.SendAsync(patch);
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        Assert.Equal("After", (await patched.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("name").GetString());
        Assert.NotEqual(etag, patched.Headers.ETag);

        using var stale = new HttpRequestMessage(HttpMethod.Patch, Url($"/api/v1/orgs/{id}")) { Content = JsonContent.Create(new { name = "Lost update" }) };
        stale.Headers.IfMatch.Add(etag);
        using var rejected = await user.Client.SendAsync(stale);
        await rejected.ShouldBeProblemAsync(HttpStatusCode.PreconditionFailed, "precondition.failed");

        var current = await user.Client.GetFromJsonAsync<JsonElement>(Url($"/api/v1/orgs/{id}"));
        Assert.Equal("After", current.GetProperty("name").GetString());
    }

    [Fact]
    public async Task Every_read_of_an_org_shows_its_latest_version_to_users_and_keys()
    {
        var owner = await App.SignInAsync();
        var id = await owner.CreateOrgAsync("First name");
        var key = await owner.CreateKeyAsync(id, "org:read");
        using var keyClient = App.KeyClient(key.Secret);

        foreach (var name in new[] { "Second name", "Third name" })
        {
            using var read = await keyClient.GetAsync(Url($"/api/v1/orgs/{id}"));
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);

            // The ETag a read hands out is the one the next write must present.
            using var patch = new HttpRequestMessage(HttpMethod.Patch, Url($"/api/v1/orgs/{id}")) { Content = JsonContent.Create(new { name }) };
            patch.Headers.IfMatch.Add(read.Headers.ETag!);
            using var patched = await owner.Client.SendAsync(patch);
            Assert.Equal(HttpStatusCode.OK, patched.StatusCode);

            foreach (var client in new[] { keyClient, owner.Client })
            {
                using var after = await client.GetAsync(Url($"/api/v1/orgs/{id}"));
                Assert.Equal(HttpStatusCode.OK, after.StatusCode);
                Assert.Equal(name, (await after.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("name").GetString());
                Assert.Equal(patched.Headers.ETag, after.Headers.ETag);
            }
        }

        using (var delete = new HttpRequestMessage(HttpMethod.Delete, Url($"/api/v1/orgs/{id}")))
        {
            using var read = await owner.Client.GetAsync(Url($"/api/v1/orgs/{id}"));
            delete.Headers.IfMatch.Add(read.Headers.ETag!);
            using var deleted = await owner.Client.SendAsync(delete);
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        using var gone = await owner.Client.GetAsync(Url($"/api/v1/orgs/{id}"));
        await gone.ShouldBeProblemAsync(HttpStatusCode.NotFound, "org.not_found");
        using var goneForKey = await keyClient.GetAsync(Url($"/api/v1/orgs/{id}"));
        await goneForKey.ShouldBeProblemAsync(HttpStatusCode.NotFound, "org.not_found");
    }

    [Fact]
    public async Task Changing_the_slug_frees_the_old_one()
    {
        var user = await App.SignInAsync();
        var oldSlug = UniqueSlug();
        var newSlug = UniqueSlug();
        using var created = await user.Client.PostAsJsonAsync(Url("/api/v1/orgs"), new { name = "Slugged", slug = oldSlug });
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();

        using var patched = await user.Client.PatchAsJsonAsync(Url($"/api/v1/orgs/{id}"), new { slug = newSlug });
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);

        using var reuse = await user.Client.PostAsJsonAsync(Url("/api/v1/orgs"), new { name = "Reuses", slug = oldSlug });
        Assert.Equal(HttpStatusCode.Created, reuse.StatusCode);
        using var taken = await user.Client.PostAsJsonAsync(Url("/api/v1/orgs"), new { name = "Clash", slug = newSlug });
        await taken.ShouldBeProblemAsync(HttpStatusCode.Conflict, "org.slug_taken");
    }

    [Fact]
    public async Task Deleted_org_answers_404_and_leaves_the_owners_list()
    {
        var (user, keep) = await App.NewOrgAsync();
        var id = await user.CreateOrgAsync();

        using var stale = new HttpRequestMessage(HttpMethod.Delete, Url($"/api/v1/orgs/{id}"));
        stale.Headers.IfMatch.Add(new EntityTagHeaderValue("\"not-the-etag\""));
        using var refused = await user.Client.SendAsync(stale);
        await refused.ShouldBeProblemAsync(HttpStatusCode.PreconditionFailed, "precondition.failed");

        using var deleted = await user.Client.DeleteAsync(Url($"/api/v1/orgs/{id}"));
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);

        using var gone = await user.Client.GetAsync(Url($"/api/v1/orgs/{id}"));
        await gone.ShouldBeProblemAsync(HttpStatusCode.NotFound, "org.not_found");
        using var again = await user.Client.DeleteAsync(Url($"/api/v1/orgs/{id}"));
        await again.ShouldBeProblemAsync(HttpStatusCode.NotFound, "org.not_found");

        var list = await user.Client.GetFromJsonAsync<JsonElement>(Url("/api/v1/orgs"));
        Assert.Equal([keep], list.GetProperty("data").EnumerateArray().Select(o => o.GetProperty("id").GetString()));
    }

    [Fact]
    public async Task Only_an_owner_deletes_and_only_an_admin_renames()
    {
        var owner = await App.SignInAsync();
        var admin = await App.SignInAsync();
        var viewer = await App.SignInAsync();
        var id = await owner.CreateOrgAsync();
        await owner.AddMemberAsync(id, admin, "admin");
        await owner.AddMemberAsync(id, viewer, "viewer");

        using var viewerRename = await viewer.Client.PatchAsJsonAsync(Url($"/api/v1/orgs/{id}"), new { name = "Viewer was here" });
        await viewerRename.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "auth.capability_missing");
        using var adminRename = await admin.Client.PatchAsJsonAsync(Url($"/api/v1/orgs/{id}"), new { name = "Admin was here" });
        Assert.Equal(HttpStatusCode.OK, adminRename.StatusCode);
        using var adminDelete = await admin.Client.DeleteAsync(Url($"/api/v1/orgs/{id}"));
        await adminDelete.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "auth.capability_missing");
        using var viewerRead = await viewer.Client.GetAsync(Url($"/api/v1/orgs/{id}"));
        Assert.Equal(HttpStatusCode.OK, viewerRead.StatusCode);
        Assert.Equal("viewer", (await viewerRead.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("role").GetString());
    }

    [Theory]
    [InlineData("org_00000000000000000000000000")]
    [InlineData("not-an-org-id")]
    [InlineData("org_%27%20or%20%271%27%20eq%20%271")]
    public async Task Unknown_or_malformed_org_ids_are_404(string orgId)
    {
        var user = await App.SignInAsync();
        using var response = await user.Client.GetAsync(Url($"/api/v1/orgs/{orgId}"));
        await response.ShouldBeProblemAsync(HttpStatusCode.NotFound, "org.not_found");
    }

    [Fact]
    public async Task A_users_orgs_page_with_a_cursor()
    {
        var user = await App.SignInAsync();
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add(await user.CreateOrgAsync($"Paged {i}"));
        }

        var seen = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var url = "/api/v1/orgs?limit=2" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor));
            var page = await user.Client.GetFromJsonAsync<JsonElement>(Url(url));
            var data = page.GetProperty("data").EnumerateArray().Select(o => o.GetProperty("id").GetString()!).ToList();
            Assert.True(data.Count <= 2);
            seen.AddRange(data);
            cursor = page.GetProperty("nextCursor").ValueKind == JsonValueKind.Null ? null : page.GetProperty("nextCursor").GetString();
            pages++;
        }
        while (cursor is not null && pages < 10);

        Assert.Equal(ids.Order(StringComparer.Ordinal), seen.Order(StringComparer.Ordinal));
        Assert.True(pages >= 3);
    }

    [Theory]
    [InlineData("limit=0")]
    [InlineData("limit=101")]
    [InlineData("limit=abc")]
    [InlineData("limit=-1")]
    [InlineData("cursor=bm90LWEtY3Vyc29y")]
    [InlineData("cursor=%%%")]
    public async Task Bad_paging_parameters_are_400(string query)
    {
        var user = await App.SignInAsync();
        using var response = await user.Client.GetAsync(Url("/api/v1/orgs?" + query));
        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation.failed");
    }
}

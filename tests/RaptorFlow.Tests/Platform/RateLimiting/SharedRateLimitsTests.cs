using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using RaptorFlow.Functions.Platform.RateLimiting;
using RaptorFlow.Tests.ApiKeys;
using RaptorFlow.Tests.Fixtures;
using static RaptorFlow.Tests.ApiKeys.ApiKeyTestKit;

namespace RaptorFlow.Tests.Platform.RateLimiting;

public sealed class SharedRateLimitsTests
{
    private const int KeyLimit = 60;

    [Fact]
    public async Task Two_instances_hammering_one_key_accept_within_ten_percent_of_its_limit_and_never_more()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var shared = new Dictionary<string, string?> { ["RateLimits:Table"] = $"RateLimits{Guid.NewGuid():N}" };
        await using var first = await StartAsync(clock, shared);
        await using var second = await StartAsync(clock, shared);
        var (owner, orgId) = await first.NewOrgAsync();
        var key = await owner.CreateKeyAsync(orgId, new { name = "hammered", capabilities = new[] { "org:read" }, rateLimitPerMinute = KeyLimit });
        using var one = first.KeyClient(key.Secret);
        using var two = second.KeyClient(key.Secret);

        // Each second of the fake clock, both instances are asked for five times the whole rate, then sync.
        const int Seconds = 120;
        var acceptedPerSecond = new int[Seconds];
        for (var second_ = 0; second_ < Seconds; second_++)
        {
            var responses = await Task.WhenAll(Enumerable.Range(0, 5).SelectMany(_ => new[] { one, two })
                .Select(c => c.GetAsync(Url($"/api/v1/orgs/{orgId}"))));
            acceptedPerSecond[second_] = responses.Count(r => r.StatusCode == HttpStatusCode.OK);
            Assert.All(responses, r => Assert.Contains(r.StatusCode, new[] { HttpStatusCode.OK, HttpStatusCode.TooManyRequests }));
            foreach (var response in responses)
            {
                response.Dispose();
            }

            clock.Advance(TimeSpan.FromSeconds(1));
            await Task.WhenAll(first.SyncRateLimitsAsync(), second.SyncRateLimitsAsync());
        }

        // A token bucket of 60 a minute lets through its 60 at once and then 1 a second: over 120 s at most 60 + 120.
        var accepted = acceptedPerSecond.Sum();
        var allowed = KeyLimit + (KeyLimit * Seconds / 60);
        Assert.InRange(accepted, (int)(allowed * 0.9), allowed);
        // The last minute, long after the burst: within 10 % of the limit.
        Assert.InRange(acceptedPerSecond[^60..].Sum(), (int)(KeyLimit * 0.9), (int)(KeyLimit * 1.1));
    }

    [Fact]
    public async Task Leases_from_many_instances_at_once_lose_no_update_of_the_shared_bucket()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = await TestApp.StartAsync(clock: clock);
        var settings = Options.Create(new RateLimitSettings { Table = $"RateLimits{Guid.NewGuid():N}" });
        await app.Storage.Table(settings.Value.Table).CreateIfNotExistsAsync();
        var instances = Enumerable.Range(0, 6)
            .Select(_ => new SharedRateLimits(app.Storage, clock, settings, NullLogger<SharedRateLimits>.Instance)).ToArray();
        const int Budget = 1_000;
        RequestLimit[] limit = [new("burst:" + Guid.NewGuid().ToString("N"), Budget)];

        // The clock stands still, so the budget never refills: every token any instance admits came out of the row.
        var admitted = 0;
        for (var round = 0; round < 12; round++)
        {
            var counts = await Task.WhenAll(instances.Select(async instance =>
            {
                var count = 0;
                for (var i = 0; i < 60; i++)
                {
                    if ((await instance.TryTakeAllAsync(limit, CancellationToken.None)).Allowed)
                    {
                        count++;
                    }
                }

                return count;
            }));
            admitted += counts.Sum();
            await Task.WhenAll(instances.Select(i => i.SyncAsync(CancellationToken.None)));
        }

        var row = (await app.Storage.Table(settings.Value.Table).GetEntityAsync<SharedBucketRow>(limit[0].Name, SharedBucketRow.Row)).Value;
        var held = instances.Sum(i => i.TokensHeld(limit[0].Name));
        Assert.Equal(Budget, admitted + held + (int)(row.Credits / SharedBucket.CreditsPerToken));
        Assert.True(admitted > Budget / 2, $"Only {admitted} of {Budget} were admitted.");
    }

    [Fact]
    public async Task An_idle_instance_gives_its_tokens_back_and_its_next_request_leases_again()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = await TestApp.StartAsync(clock: clock);
        var settings = Options.Create(new RateLimitSettings { Table = $"RateLimits{Guid.NewGuid():N}" });
        await app.Storage.Table(settings.Value.Table).CreateIfNotExistsAsync();
        var idle = new SharedRateLimits(app.Storage, clock, settings, NullLogger<SharedRateLimits>.Instance);
        var busy = new SharedRateLimits(app.Storage, clock, settings, NullLogger<SharedRateLimits>.Instance);
        RequestLimit[] limit = [new("idle:" + Guid.NewGuid().ToString("N"), 100)];

        Assert.True((await idle.TryTakeAllAsync(limit, CancellationToken.None)).Allowed);
        Assert.Equal(9, idle.TokensHeld(limit[0].Name));
        for (var sync = 0; sync < 5; sync++)
        {
            await idle.SyncAsync(CancellationToken.None);
        }

        Assert.Equal(0, idle.TokensHeld(limit[0].Name));
        // The busy instance can spend what the idle one gave back: 80 more of the 99 left.
        for (var i = 0; i < 80; i++)
        {
            Assert.True((await busy.TryTakeAllAsync(limit, CancellationToken.None)).Allowed, $"Request {i} of the busy instance was refused.");
            if (i % 10 == 9)
            {
                await busy.SyncAsync(CancellationToken.None);
            }
        }

        // Once the busy one idles too, the 19 left are in the row again, and the idle one's next request leases from them.
        for (var sync = 0; sync < 4; sync++)
        {
            await busy.SyncAsync(CancellationToken.None);
        }

        Assert.Equal(0, busy.TokensHeld(limit[0].Name));
        Assert.True((await idle.TryTakeAllAsync(limit, CancellationToken.None)).Allowed);
        Assert.Equal(9, idle.TokensHeld(limit[0].Name));
    }

    [Fact]
    public async Task RateLimit_remaining_never_reports_more_than_the_limit_once_the_bucket_has_refilled()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = await StartAsync(clock, new Dictionary<string, string?> { ["RateLimits:UserPerMinute"] = "1000" });
        var user = await app.SignInAsync();
        foreach (var wait in new[] { TimeSpan.Zero, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5) })
        {
            clock.Advance(wait);
            using var ok = await user.Client.GetAsync(Url("/api/v1/me"));
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.InRange(int.Parse(ok.Headers.GetValues("RateLimit-Remaining").Single(), System.Globalization.CultureInfo.InvariantCulture), 0, 1000);
        }
    }

    [Fact]
    public async Task A_signed_in_user_over_their_limit_gets_a_429_problem_with_retry_after_and_ratelimit_headers()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = await StartAsync(clock, new Dictionary<string, string?> { ["RateLimits:UserPerMinute"] = "3" });
        var user = await app.SignInAsync();
        for (var i = 0; i < 3; i++)
        {
            using var ok = await user.Client.GetAsync(Url("/api/v1/me"));
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Equal("3", ok.Headers.GetValues("RateLimit-Limit").Single());
            Assert.Equal($"{2 - i}", ok.Headers.GetValues("RateLimit-Remaining").Single());
        }

        using var refused = await user.Client.GetAsync(Url("/api/v1/me"));
        await refused.ShouldBeProblemAsync(HttpStatusCode.TooManyRequests, "rate_limit.exceeded");
        Assert.Equal(TimeSpan.FromSeconds(20), refused.Headers.RetryAfter?.Delta);
        Assert.Equal("0", refused.Headers.GetValues("RateLimit-Remaining").Single());
        Assert.Equal("3;w=60", refused.Headers.GetValues("RateLimit-Policy").Single());

        // Another user is not limited by this one's budget.
        var other = await app.SignInAsync();
        using var elsewhere = await other.Client.GetAsync(Url("/api/v1/me"));
        Assert.Equal(HttpStatusCode.OK, elsewhere.StatusCode);
    }

    [Fact]
    public async Task All_signed_in_users_of_an_org_share_the_orgs_user_limit()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = await StartAsync(clock, new Dictionary<string, string?> { ["RateLimits:UserOrgPerMinute"] = "4" });
        var (owner, orgId) = await app.NewOrgAsync();
        var member = await app.SignInAsync();
        await owner.AddMemberAsync(orgId, member, "member");
        var admitted = 0;
        while (true)
        {
            using var response = await owner.Client.GetAsync(Url($"/api/v1/orgs/{orgId}"));
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                await response.ShouldBeProblemAsync(HttpStatusCode.TooManyRequests, "rate_limit.exceeded");
                Assert.Equal("4", response.Headers.GetValues("RateLimit-Limit").Single());
                Assert.NotNull(response.Headers.RetryAfter?.Delta);
                break;
            }

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.True(++admitted <= 4, "More than the org's 4 were let through.");
        }

        // The member's own budget is untouched, but the org's is spent for every user in it.
        using (var own = await member.Client.GetAsync(Url("/api/v1/me")))
        {
            Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        }

        using var shared = await member.Client.GetAsync(Url($"/api/v1/orgs/{orgId}"));
        await shared.ShouldBeProblemAsync(HttpStatusCode.TooManyRequests, "rate_limit.exceeded");
    }

    [Fact]
    public async Task Webhook_ingest_is_limited_per_client_address_which_x_forwarded_for_cannot_choose_standalone()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = await StartAsync(clock, new Dictionary<string, string?> { ["RateLimits:RazorpayWebhookPerAddress"] = "2" });
        for (var i = 0; i < 3; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, Url("/api/v1/webhooks/razorpay"))
            {
                Content = JsonContent.Create(new { @event = "payment.captured" }),
            };
            // A caller naming a fresh address each time would get a fresh budget if the header were believed.
            request.Headers.Add("X-Forwarded-For", $"203.0.113.{i + 1}");
            using var response = await app.Client.SendAsync(request);
            if (i < 2)
            {
                Assert.NotEqual(HttpStatusCode.TooManyRequests, response.StatusCode);
                Assert.Equal($"{1 - i}", response.Headers.GetValues("RateLimit-Remaining").Single());
            }
            else
            {
                await response.ShouldBeProblemAsync(HttpStatusCode.TooManyRequests, "rate_limit.exceeded");
                Assert.Equal(TimeSpan.FromSeconds(30), response.Headers.RetryAfter?.Delta);
                Assert.Equal("2", response.Headers.GetValues("RateLimit-Limit").Single());
            }
        }
    }

    [Fact]
    public async Task Invitation_accept_is_limited_per_client_address_as_well_as_per_user()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = await StartAsync(clock, new Dictionary<string, string?> { ["RateLimits:InvitationAcceptPerAddress"] = "1" });
        var guesser = await app.SignInAsync();
        var another = await app.SignInAsync();
        using (var first = await guesser.Client.PostAsJsonAsync(Url("/api/v1/invitations/accept"), new { token = "inv_guess_1" }))
        {
            Assert.NotEqual(HttpStatusCode.TooManyRequests, first.StatusCode);
        }

        // A second account from the same address shares the address's budget.
        using var second = await another.Client.PostAsJsonAsync(Url("/api/v1/invitations/accept"), new { token = "inv_guess_2" });
        await second.ShouldBeProblemAsync(HttpStatusCode.TooManyRequests, "rate_limit.exceeded");
        Assert.Equal("1", second.Headers.GetValues("RateLimit-Limit").Single());
    }
}

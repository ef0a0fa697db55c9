using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using RaptorFlow.Functions.Platform.RateLimiting;
using RaptorFlow.Functions.Platform.Storage;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Platform.RateLimiting;

public sealed class ReleasedBucketTests
{
    private const int Limit = 100;

    /// <summary>Syncs that see no demand before a bucket gives all its tokens back (SharedRateLimits' own count).</summary>
    private const int IdleSyncsBeforeRelease = 3;

    [Theory]
    [InlineData(UnknownLimit.Admit)]
    [InlineData(UnknownLimit.Refuse)]
    public async Task A_bucket_a_sync_releases_between_a_requests_lease_and_its_take_is_leased_again_not_refused(UnknownLimit whenUnknown)
    {
        var azurite = await Azurite.Shared;
        await using var relay = await RivalBucketWriter.StartAsync(azurite, $"RateLimits{Guid.NewGuid():N}", Limit);
        var storage = relay.Storage();
        var instance = new SharedRateLimits(storage, new FakeTimeProvider(DateTimeOffset.UtcNow), Options.Create(new RateLimitSettings { Table = relay.Table }),
            NullLogger<SharedRateLimits>.Instance);
        var user = new RequestLimit("user:" + Guid.NewGuid().ToString("N"), Limit, TimeSpan.FromMinutes(1));
        var org = new RequestLimit("org:" + Guid.NewGuid().ToString("N"), Limit, TimeSpan.FromMinutes(1));

        // The user's bucket is leased, then idles until the next sync gives it back.
        Assert.True((await instance.TryTakeAllAsync([user], CancellationToken.None, whenUnknown)).Allowed);
        for (var sync = 0; sync < IdleSyncsBeforeRelease; sync++)
        {
            await instance.SyncAsync(CancellationToken.None);
        }

        var held = instance.TokensHeld(user.Name);
        Assert.True(held > 0, "The idle bucket gave its tokens back too early for the race to be set up.");

        // A request needs both. It finds the user's bucket leased, and while it leases the org's bucket (first use),
        // that sync runs: the user's bucket is released and its tokens go back to the shared row.
        var releasedDuringLease = -1;
        var orgKey = SharedBucketRow.KeyFor(org.Name);
        relay.AfterRead = async key =>
        {
            if (key == orgKey && releasedDuringLease < 0)
            {
                await instance.SyncAsync(CancellationToken.None);
                releasedDuringLease = instance.TokensHeld(user.Name);
            }
        };
        var decision = await instance.TryTakeAllAsync([user, org], CancellationToken.None, whenUnknown);
        relay.AfterRead = null;

        Assert.Equal(0, releasedDuringLease);
        // The shared buckets are nearly full: nothing but the release could refuse this request.
        Assert.True(decision.Allowed, $"Refused with {decision.Remaining} remaining.");
        Assert.InRange(decision.Remaining, Limit - 1 - (2 * held), Limit - 1);
        Assert.True(instance.TokensHeld(user.Name) > 0, "The user's bucket was not leased again.");
    }
}

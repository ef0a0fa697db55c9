using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using RaptorFlow.Functions.Platform.RateLimiting;
using RaptorFlow.Functions.Platform.Storage;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Platform.RateLimiting;

public sealed class ContendedLeaseTests
{
    private const int Limit = 50;

    [Theory]
    [InlineData(UnknownLimit.Admit)]
    [InlineData(UnknownLimit.Refuse)]
    public async Task A_first_lease_that_never_wins_its_race_is_an_unknown_limit_not_an_empty_bucket(UnknownLimit whenUnknown)
    {
        var azurite = await Azurite.Shared;
        await using var rival = await RivalBucketWriter.StartAsync(azurite, $"RateLimits{Guid.NewGuid():N}", Limit);
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var storage = rival.Storage();
        var settings = Options.Create(new RateLimitSettings { Table = rival.Table });
        var instances = Enumerable.Range(0, 4)
            .Select(_ => new SharedRateLimits(storage, clock, settings, NullLogger<SharedRateLimits>.Instance)).ToArray();
        // A webhook send's one-second window or the API's minute: both are the same shared buckets.
        RequestLimit[] limit = whenUnknown == UnknownLimit.Refuse
            ? [new("webhook:" + Guid.NewGuid().ToString("N"), Limit, TimeSpan.FromSeconds(1))]
            : [new("user:" + Guid.NewGuid().ToString("N"), Limit)];

        // Every instance's first requests arrive together while another writer wins every round of their lease.
        rival.Armed = true;
        var contended = await Task.WhenAll(instances.SelectMany(instance => Enumerable.Range(0, 8)
            .Select(_ => instance.TryTakeAllAsync(limit, CancellationToken.None, whenUnknown).AsTask())));
        rival.Armed = false;

        Assert.True(rival.Writes >= ConcurrencyPolicy.Lease.MaxAttempts, $"The rival wrote the row only {rival.Writes} times.");
        // The API admits and a send waits, as for an unreachable table; an "empty bucket" decision would refuse the API's requests.
        Assert.All(contended, d => Assert.Equal(whenUnknown == UnknownLimit.Admit, d.Allowed));
        Assert.All(instances, i => Assert.Equal(0, i.TokensHeld(limit[0].Name)));

        // Nothing was decided from the contention: once the row is quiet, each instance's next request leases
        // from the full bucket and is admitted (an instance that settled on an empty lease would refuse it).
        foreach (var instance in instances)
        {
            Assert.True((await instance.TryTakeAllAsync(limit, CancellationToken.None, whenUnknown)).Allowed);
        }

        var row = (await storage.Table(rival.Table).GetEntityAsync<SharedBucketRow>(limit[0].Name, SharedBucketRow.Row)).Value;
        var held = instances.Sum(i => i.TokensHeld(limit[0].Name));
        Assert.Equal(Limit, instances.Length + held + (int)(row.Credits / SharedBucket.CreditsPerToken));
    }
}

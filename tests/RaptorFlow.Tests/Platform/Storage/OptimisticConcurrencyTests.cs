using Azure;
using Azure.Data.Tables;
using RaptorFlow.Functions.Platform.Storage;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Platform.Storage;

public sealed class OptimisticConcurrencyTests
{
    private static readonly ConcurrencyPolicy ThreeTries = new("Test", 3);

    [Theory]
    [InlineData(412)]
    [InlineData(409)]
    public async Task A_lost_race_is_retried_until_the_round_decides(int status)
    {
        var rounds = 0;
        var result = await OptimisticConcurrency.RunAsync<string>(ThreeTries, attempt =>
        {
            rounds++;
            return attempt < 3 ? throw new RequestFailedException(status, "lost") : Task.FromResult<Attempt<string>>("decided");
        }, CancellationToken.None);

        Assert.Equal("decided", result);
        Assert.Equal(3, rounds);
    }

    [Fact]
    public async Task At_the_policys_limit_the_last_conflict_is_rethrown()
    {
        var rounds = 0;
        var thrown = await Assert.ThrowsAsync<RequestFailedException>(() => OptimisticConcurrency.RunAsync<string>(ThreeTries, _ =>
        {
            rounds++;
            throw new RequestFailedException(412, "lost");
        }, CancellationToken.None));

        Assert.Equal(412, thrown.Status);
        Assert.Equal(ThreeTries.MaxAttempts, rounds);
    }

    [Fact]
    public async Task At_the_policys_limit_a_round_that_keeps_losing_gives_the_exhausted_result()
    {
        var rounds = 0;
        var result = await OptimisticConcurrency.RunAsync(ThreeTries, _ =>
        {
            rounds++;
            return Task.FromResult(Attempt.LostRace<string>());
        }, CancellationToken.None, exhausted: () => "gave up");

        Assert.Equal("gave up", result);
        Assert.Equal(ThreeTries.MaxAttempts, rounds);
    }

    [Theory]
    [InlineData(404)]
    [InlineData(500)]
    public async Task Other_storage_errors_are_not_retried(int status)
    {
        var rounds = 0;
        var thrown = await Assert.ThrowsAsync<RequestFailedException>(() => OptimisticConcurrency.RunAsync<string>(ThreeTries, _ =>
        {
            rounds++;
            throw new RequestFailedException(status, "broken");
        }, CancellationToken.None));

        Assert.Equal(status, thrown.Status);
        Assert.Equal(1, rounds);
    }

    [Fact]
    public async Task A_decision_in_the_first_round_stops_the_loop()
    {
        var rounds = 0;
        await OptimisticConcurrency.RunAsync(ThreeTries, _ =>
        {
            rounds++;
            return Task.FromResult(true);
        }, CancellationToken.None);

        Assert.Equal(1, rounds);
    }

    [Fact]
    public async Task Each_retry_is_reported_with_its_status_and_the_final_success_is_not()
    {
        var retries = new List<(int Attempt, int? Status)>();
        await OptimisticConcurrency.RunAsync(ThreeTries, attempt =>
            attempt switch
            {
                1 => throw new RequestFailedException(412, "lost"),
                2 => Task.FromResult(false),
                _ => Task.FromResult(true),
            }, CancellationToken.None, onRetry: (attempt, status) => retries.Add((attempt, status)));

        Assert.Equal([(1, 412), (2, null)], retries);
    }

    [Fact]
    public async Task A_write_under_a_stale_ETag_reads_again_and_lands_on_the_fresh_row()
    {
        var table = await NewTableAsync();
        await table.AddEntityAsync(new TableEntity("p", "counter") { ["Count"] = 0 });
        var stale = (await table.GetEntityAsync<TableEntity>("p", "counter")).Value;
        await table.UpdateEntityAsync(new TableEntity("p", "counter") { ["Count"] = 10 }, stale.ETag, TableUpdateMode.Replace);

        var rounds = 0;
        await OptimisticConcurrency.RunAsync(ThreeTries, async attempt =>
        {
            rounds++;
            var row = attempt == 1 ? stale : (await table.GetEntityAsync<TableEntity>("p", "counter")).Value;
            row["Count"] = row.GetInt32("Count")!.Value + 1;
            await table.UpdateEntityAsync(row, row.ETag, TableUpdateMode.Replace);
            return true;
        }, CancellationToken.None);

        Assert.Equal(2, rounds);
        Assert.Equal(11, (await table.GetEntityAsync<TableEntity>("p", "counter")).Value.GetInt32("Count"));
    }

    [Fact]
    public async Task Writers_racing_on_one_row_all_land_when_the_limit_covers_them()
    {
        // Every round has a winner, so n writers need at most n rounds each.
        const int writers = 6;
        var table = await NewTableAsync();
        await table.AddEntityAsync(new TableEntity("p", "counter") { ["Count"] = 0 });

        await Task.WhenAll(Enumerable.Range(0, writers).Select(_ => OptimisticConcurrency.RunAsync(new ConcurrencyPolicy("Race", writers), async _ =>
        {
            var row = (await table.GetEntityAsync<TableEntity>("p", "counter")).Value;
            row["Count"] = row.GetInt32("Count")!.Value + 1;
            await table.UpdateEntityAsync(row, row.ETag, TableUpdateMode.Replace);
            return true;
        }, CancellationToken.None)));

        Assert.Equal(writers, (await table.GetEntityAsync<TableEntity>("p", "counter")).Value.GetInt32("Count"));
    }

    private static async Task<TableClient> NewTableAsync()
    {
        var azurite = await Azurite.Shared;
        var table = new TableServiceClient(azurite.ConnectionString).GetTableClient("concurrency" + Guid.NewGuid().ToString("N")[..12]);
        await table.CreateIfNotExistsAsync();
        return table;
    }
}

using CsCheck;
using RaptorFlow.Functions.Events;
using RaptorFlow.Functions.Platform.Paging;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Events;

/// <summary>
/// Random interleavings of staging, committing, crashing (before the commit, or between the commit
/// and the enqueue), duplicate messages, dispatches, a subscriber failing, sweeps and the clock
/// moving: once the sweeper has had its say, the feed holds exactly the committed events, each
/// handed to the subscriber exactly once, and nothing stays pending.
/// </summary>
[Collection(EventsCollection.Name)]
public sealed class EventOutboxProperties(EventsAppFixture fixture)
{
    public enum Fate
    {
        Published,
        CrashBeforeCommit,
        CrashBeforeEnqueue,
    }

    public enum Step
    {
        Stage,
        Commit,
        Duplicate,
        Dispatch,
        Sweep,
        FailSubscriber,
        Wait,
    }

    public sealed record Case(IReadOnlyList<Fate> Fates, IReadOnlyList<Step> Steps, IReadOnlyList<int> Picks);

    private static readonly Gen<Case> CaseGen =
        Gen.Select(Gen.Enum<Fate>().List[1, 5], Gen.Enum<Step>().List[5, 25], Gen.Int[0, 100].List[25])
            .Select((fates, steps, picks) => new Case(fates, steps, picks));

    [Fact]
    public async Task The_feed_holds_exactly_the_committed_events_whatever_crashes_and_duplicates_happen()
    {
        await CaseGen.SampleAsync(CheckAsync, iter: 15, threads: 1);
    }

    private async Task CheckAsync(Case history)
    {
        var orgId = EventsAppFixture.NewOrgId();
        var toStage = new Queue<Fate>(history.Fates);
        var staged = new List<(StagedEvent Event, Fate Fate, bool Committed)>();
        var pick = 0;
        int Pick(int count) => history.Picks[pick++ % history.Picks.Count] % count;

        foreach (var step in history.Steps)
        {
            switch (step)
            {
                case Step.Stage when toStage.Count > 0:
                    staged.Add((await fixture.StageAsync(orgId), toStage.Dequeue(), false));
                    break;
                case Step.Commit when staged.FindIndex(s => !s.Committed && s.Fate != Fate.CrashBeforeCommit) is var i and >= 0:
                    await fixture.CommitAsync(staged[i].Event);
                    staged[i] = staged[i] with { Committed = true };
                    if (staged[i].Fate == Fate.Published)
                    {
                        await fixture.Outbox.PublishAsync(staged[i].Event, default);
                    }

                    break;
                case Step.Duplicate when staged.Count > 0:
                    await fixture.Outbox.PublishAsync(staged[Pick(staged.Count)].Event, default);
                    break;
                case Step.Dispatch:
                    await fixture.DrainAsync();
                    break;
                case Step.Sweep:
                    await fixture.SweepAsync();
                    break;
                case Step.FailSubscriber:
                    fixture.Subscriber.FailNext();
                    break;
                case Step.Wait:
                    // Short steps: every commit lands well inside the grace period, as a real one does.
                    fixture.Clock.Advance(TimeSpan.FromSeconds(Pick(10)));
                    break;
            }
        }

        // The rest of the stories: what was staged and not crashed commits, then the sweeper runs.
        foreach (var (item, index) in staged.Select((s, i) => (s, i)).ToList())
        {
            if (!item.Committed && item.Fate != Fate.CrashBeforeCommit)
            {
                await fixture.CommitAsync(item.Event);
                staged[index] = item with { Committed = true };
            }
        }

        for (var round = 0; round < 3; round++)
        {
            fixture.Clock.Advance(DispatchDomainEvent.GracePeriod + TimeSpan.FromSeconds(1));
            await fixture.SweepAsync();
            await fixture.DrainAsync();
        }

        fixture.Subscriber.Recover();
        var committed = staged.Where(s => s.Committed).Select(s => s.Event.Id).Order().ToList();
        var feed = await App.Services.GetRequiredService<EventFeed>().ReadAsync(orgId, null, null, new PageRequest(100, null), default);
        Assert.Equal(committed, feed.Data.Select(e => e.Id).Order());
        Assert.All(staged, s => Assert.Equal(s.Committed ? 1 : 0, fixture.Subscriber.Count(s.Event.Id)));
        foreach (var s in staged)
        {
            Assert.False(await fixture.Outbox.Index.GetEntityIfExistsAsync<Azure.Data.Tables.TableEntity>("~pending", s.Event.Id) is { HasValue: true });
        }
    }

    private TestApp App => fixture.App;
}

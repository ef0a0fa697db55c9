using System.Net;
using Azure.Data.Tables;
using RaptorFlow.Functions.Events;
using RaptorFlow.Functions.Webhooks;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Events;

/// <summary>
/// An outbox row sits in the changed entity's own partition, under a row key that sorts after every
/// feature's key ranges: the features' reads of those partitions never see it.
/// </summary>
[Collection(EventsCollection.Name)]
public sealed class OutboxRowPlacementTests(EventsAppFixture fixture)
{
    private TestApp App => fixture.App;

    [Fact]
    public async Task Outbox_rows_in_org_ledger_invoice_subscription_and_webhook_endpoint_partitions_are_never_read_as_their_rows()
    {
        var (owner, orgId) = await App.NewOrgAsync();
        var member = await App.SignInAsync();
        await owner.AddMemberAsync(orgId, member, "viewer");
        string[] reads =
        [
            $"/api/v1/orgs/{orgId}",
            $"/api/v1/orgs/{orgId}/members",
            $"/api/v1/orgs/{orgId}/invitations",
            $"/api/v1/orgs/{orgId}/ledger/accounts",
            $"/api/v1/orgs/{orgId}/ledger/transactions",
            $"/api/v1/orgs/{orgId}/invoices",
            $"/api/v1/orgs/{orgId}/subscription",
            $"/api/v1/orgs/{orgId}/webhook-endpoints",
        ];
        var before = await ReadAllAsync(owner, reads);

        // The invitation and its acceptance emit events of their own; these are dispatched first and counted apart.
        var feed = App.Services.GetRequiredService<EventFeed>();
        await fixture.DrainAsync();
        var emittedByChanges = (await feed.ReadAsync(orgId, null, null, new(100, null), default)).Data.Count;

        foreach (var table in new[] { "Orgs", "Ledger", "Invoices", "Subscriptions", "WebhookEndpoints" })
        {
            var staged = await fixture.Outbox.StageAsync(orgId, EventTypes.OrgUpdated, new WebhookPing(table), table, orgId, default);
            await App.Storage.Table(table).SubmitTransactionAsync([staged.Action]);
        }

        Assert.Equal(before, await ReadAllAsync(owner, reads));
        await fixture.DrainAsync();
        fixture.Clock.Advance(SweepEventOutbox.SweepAfter + TimeSpan.FromSeconds(1));
        await fixture.SweepAsync();
        await fixture.DrainAsync();
        Assert.Equal(emittedByChanges + 5, (await feed.ReadAsync(orgId, null, null, new(100, null), default)).Data.Count);
    }

    private static async Task<List<string>> ReadAllAsync(TestUser user, IEnumerable<string> paths)
    {
        var bodies = new List<string>();
        foreach (var path in paths)
        {
            using var response = await user.Client.GetAsync(new Uri(path, UriKind.Relative));
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            bodies.Add(path + " " + await response.Content.ReadAsStringAsync());
        }

        return bodies;
    }
}

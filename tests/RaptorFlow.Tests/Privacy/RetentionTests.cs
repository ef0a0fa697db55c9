using System.Net;
using System.Net.Http.Json;
using Azure.Data.Tables;
using RaptorFlow.Functions.Audit;
using RaptorFlow.Functions.Hosting;
using RaptorFlow.Functions.Platform.Ids;
using RaptorFlow.Functions.Privacy;
using RaptorFlow.Functions.Usage;
using RaptorFlow.Functions.Webhooks;
using RaptorFlow.Tests.Fixtures;
using RaptorFlow.Tests.Invoices;
using static RaptorFlow.Tests.Privacy.ExportTestKit;

namespace RaptorFlow.Tests.Privacy;

/// <summary>Records of live orgs removed once past their retention, and nothing newer.</summary>
public sealed class RetentionTests
{
    private static readonly DateTimeOffset Start = new(2024, 6, 3, 10, 30, 0, TimeSpan.Zero);

    [Fact]
    public async Task Raw_usage_events_go_after_35_days_once_rolled_up_with_their_id_claims_while_unrolled_and_newer_ones_and_the_totals_stay()
    {
        await using var world = await InvoiceWorld.StartAsync(Start, more: Settings());
        var app = world.App;
        var (owner, orgId) = await world.NewOrgAsync();
        await RecordAsync(owner, orgId, "evt-old-rolled", Start.AddHours(-2));
        await app.Services.GetRequiredService<UsageRollup>().RunForOrgAsync(orgId, CancellationToken.None);
        await RecordAsync(owner, orgId, "evt-old-unrolled", Start.AddHours(-5));
        var totalsBefore = await CountAsync(app, UsageTotalRow.TableName, TableClient.CreateQueryFilter($"PartitionKey eq {orgId}"));

        world.Clock.Advance(TimeSpan.FromDays(35) + TimeSpan.FromHours(1));
        owner = await world.AgainAsync(owner);
        await RecordAsync(owner, orgId, "evt-recent", world.Clock.GetUtcNow().AddDays(-34));
        Assert.Single(await RunRetentionAsync(app, orgId));

        Assert.Equal(["evt-old-unrolled", "evt-recent"], await EventIdsAsync(app, UsageEventRow.TableName,
            TableClient.CreateQueryFilter($"PartitionKey ge {orgId + "|"} and PartitionKey lt {orgId + "}"}")));
        Assert.Equal(["evt-old-unrolled", "evt-recent"], await EventIdsAsync(app, UsageEventIdRow.TableName, TableClient.CreateQueryFilter($"PartitionKey eq {orgId}")));
        Assert.True(await CountAsync(app, UsageTotalRow.TableName, TableClient.CreateQueryFilter($"PartitionKey eq {orgId}")) >= totalsBefore);
    }

    [Fact]
    public async Task Webhook_messages_go_after_30_days_unless_still_being_delivered_and_audit_events_after_400_days()
    {
        await using var world = await InvoiceWorld.StartAsync(Start, more: Settings());
        var app = world.App;
        var (owner, orgId) = await world.NewOrgAsync();

        world.Clock.Advance(TimeSpan.FromDays(399));
        owner = await world.AgainAsync(owner);
        using (var renamed = await owner.Client.PatchAsJsonAsync(Url($"/api/v1/orgs/{orgId}"), new { name = "Kept recent" }))
        {
            Assert.Equal(HttpStatusCode.OK, renamed.StatusCode);
        }

        world.Clock.Advance(TimeSpan.FromDays(2));
        var now = world.Clock.GetUtcNow();
        var messages = app.Storage.Table(WebhookMessageRow.TableName);
        var partition = WebhookMessageRow.PartitionFor(orgId, "whe_" + Guid.NewGuid().ToString("N")[..26]);
        foreach (var (seed, age, status) in new[] { ("old", 31, DeliveryStatus.Succeeded), ("old-failed", 31, DeliveryStatus.Failed), ("old-pending", 31, DeliveryStatus.Pending), ("recent", 29, DeliveryStatus.Succeeded) })
        {
            await messages.AddEntityAsync(new TableEntity(partition, IdGenerator.Derived("msg", now.AddDays(-age), seed)) { ["Status"] = status, ["Seed"] = seed });
        }

        using (var direct = await app.InvokeAsync(ApplyOrgRetention.FunctionName, HostInvocations.QueueTextEnvelope($$"""{"orgId":"{{orgId}}"}""")))
        {
            Assert.True(direct.IsSuccessStatusCode, await direct.Content.ReadAsStringAsync());
        }

        var left = new List<string>();
        await foreach (var row in messages.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {partition}")))
        {
            left.Add(row.GetString("Seed"));
        }

        Assert.Equal(["old-pending", "recent"], left.Order());
        var actions = new List<string>();
        await foreach (var row in app.Storage.Table(AuditLog.TableName).QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {orgId}")))
        {
            actions.Add(row.GetString("Action"));
        }

        Assert.Equal(["org.updated"], actions);
    }

    private static async Task RecordAsync(TestUser owner, string orgId, string id, DateTimeOffset at)
    {
        using var response = await owner.PostAsync($"/api/v1/orgs/{orgId}/usage-events",
            body: new { events = new[] { new { id, meter = "api_calls", quantity = 2, timestamp = at.ToString("O") } } });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Runs the ApplyRetention timer as the host does and delivers its message for <paramref name="orgId"/> (twice: a duplicate), dropping the others.</summary>
    private static async Task<List<string>> RunRetentionAsync(TestApp app, string orgId)
    {
        using (var timer = await app.InvokeAsync(ApplyRetention.FunctionName, HostInvocations.TimerEnvelope()))
        {
            Assert.True(timer.IsSuccessStatusCode, await timer.Content.ReadAsStringAsync());
        }

        var queue = app.Storage.Queue(app.Services.GetRequiredService<OrgRetentionQueue>().Name);
        var delivered = new List<string>();
        while ((await queue.ReceiveMessagesAsync(32)).Value is { Length: > 0 } received)
        {
            foreach (var message in received)
            {
                var text = message.Body.ToString();
                if (text.Contains(orgId, StringComparison.Ordinal))
                {
                    for (var i = 1; i <= 2; i++)
                    {
                        using var response = await app.InvokeAsync(ApplyOrgRetention.FunctionName, HostInvocations.QueueTextEnvelope(text, i));
                        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
                    }

                    delivered.Add(text);
                }

                await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
            }
        }

        return delivered;
    }

    private static async Task<List<string>> EventIdsAsync(TestApp app, string table, string filter)
    {
        var ids = new List<string>();
        await foreach (var row in app.Storage.Table(table).QueryAsync<TableEntity>(filter, select: ["RowKey"]))
        {
            ids.Add(row.RowKey);
        }

        return [.. ids.Distinct().Order(StringComparer.Ordinal)];
    }

    private static async Task<int> CountAsync(TestApp app, string table, string filter)
    {
        var count = 0;
        await foreach (var _ in app.Storage.Table(table).QueryAsync<TableEntity>(filter, select: ["RowKey"]))
        {
            count++;
        }

        return count;
    }
}

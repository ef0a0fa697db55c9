using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using RaptorFlow.Functions.Events;
using RaptorFlow.Functions.Hosting;
using RaptorFlow.Functions.Idempotency;
using RaptorFlow.Functions.Invoices;
using RaptorFlow.Functions.Mail;
using RaptorFlow.Functions.Organizations;
using RaptorFlow.Functions.Platform.RateLimiting;
using RaptorFlow.Functions.Platform.Storage;
using RaptorFlow.Functions.Privacy;
using RaptorFlow.Functions.Razorpay;
using RaptorFlow.Functions.Usage;
using RaptorFlow.Functions.Webhooks;
using RaptorFlow.Tests.Events;
using RaptorFlow.Tests.Fixtures;
using RaptorFlow.Tests.Invoices;
using RaptorFlow.Tests.Razorpay;
using static RaptorFlow.Tests.Privacy.ExportTestKit;

namespace RaptorFlow.Tests.Privacy;

/// <summary>Deleted orgs purged once their grace ends, their tax records once the law lets them go.</summary>
public sealed class OrgPurgeTests
{
    // Financial year 2024-25: its annual return is due 31 December 2025, so its records are kept to the end of 31 December 2031 (IST).
    private static readonly DateTimeOffset Start = new(2025, 1, 10, 9, 0, 0, TimeSpan.Zero);

    /// <summary>The tables whose rows may still name a purged org until its records are purged.</summary>
    private static readonly string[] Financial = [InvoiceKeys.TableName, "CreditNotes", "Ledger", "Payments", "RazorpayPayments", "RazorpayInbox", InvoiceNumbering.TableName, OrgPurgeSchedule.TableName];

    [Fact]
    public async Task Purge_after_grace_removes_every_trace_of_the_org_but_its_financial_records_which_go_after_the_legal_period()
    {
        await using var world = await InvoiceWorld.StartAsync(Start, more: PurgeSettings());
        var app = world.App;
        var (owner, orgId) = await world.NewOrgAsync("pro");
        var slug = "purged-" + Guid.NewGuid().ToString("N")[..10];
        await FillAsync(app, owner, orgId, slug);
        using (var close = await owner.Client.PostAsync(Url($"/api/dev/orgs/{orgId}/close-period"), null))
        {
            Assert.True(close.IsSuccessStatusCode, await close.Content.ReadAsStringAsync());
        }

        var invoicesBefore = await RowsAsync(app, InvoiceKeys.TableName, orgId);
        var ledgerBefore = await RowsAsync(app, "Ledger", orgId);
        Assert.NotEmpty(invoicesBefore);
        Assert.NotEmpty(ledgerBefore);
        using (var deleted = await owner.Client.DeleteAsync(Url($"/api/v1/orgs/{orgId}")))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        var other = await app.SignInAsync();
        Assert.Equal(HttpStatusCode.Conflict, await CreateWithSlugAsync(other, slug));

        world.Clock.Advance(TimeSpan.FromDays(30) - TimeSpan.FromMinutes(1));
        Assert.Empty(await RunPurgeAsync(app, orgId));
        await SettleRateLimitsAsync(app);

        world.Clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Single(await RunPurgeAsync(app, orgId));
        world.Clock.Advance(TimeSpan.FromDays(1));
        Assert.Equal(OrgPurgeStage.Sweep, StageOf(Assert.Single(await RunPurgeAsync(app, orgId))));

        var left = await TracesAsync(app, orgId);
        Assert.True(left.All(t => Financial.Contains(t.Split(' ')[0])), "Left after the purge:\n" + string.Join("\n", left.Where(t => !Financial.Contains(t.Split(' ')[0]))));
        Assert.Equal(invoicesBefore, await RowsAsync(app, InvoiceKeys.TableName, orgId));
        Assert.Equal(ledgerBefore, await RowsAsync(app, "Ledger", orgId));
        await app.AssertLedgerIsConsistentAsync(orgId);
        other = await world.AgainAsync(other);
        Assert.Equal(HttpStatusCode.Created, await CreateWithSlugAsync(other, slug));

        var recordsDue = LegalRetention.EndsAfter(Start.AddDays(30));
        Assert.Equal(new DateTimeOffset(2032, 1, 1, 0, 0, 0, TimeSpan.FromHours(5.5)), recordsDue);
        world.Clock.SetUtcNow(recordsDue - TimeSpan.FromMinutes(1));
        Assert.Empty(await RunPurgeAsync(app, orgId));
        Assert.Equal(invoicesBefore, await RowsAsync(app, InvoiceKeys.TableName, orgId));

        world.Clock.SetUtcNow(recordsDue + TimeSpan.FromMinutes(1));
        Assert.Single(await RunPurgeAsync(app, orgId));
        var kept = await TracesAsync(app, orgId);
        Assert.True(kept.All(t => t.StartsWith(InvoiceNumbering.TableName + " ", StringComparison.Ordinal)), "Left after the records purge:\n" + string.Join("\n", kept));
    }

    [Fact]
    public async Task Duplicate_and_concurrent_purge_messages_purge_once_and_a_restored_orgs_message_purges_nothing()
    {
        await using var world = await InvoiceWorld.StartAsync(Start, more: PurgeSettings());
        var app = world.App;
        var (owner, orgId) = await world.NewOrgAsync();
        await FillAsync(app, owner, orgId, "twice-" + Guid.NewGuid().ToString("N")[..10]);
        var (keeper, keptOrg) = await world.NewOrgAsync();
        foreach (var (user, org) in new[] { (owner, orgId), (keeper, keptOrg) })
        {
            using var deleted = await user.Client.DeleteAsync(Url($"/api/v1/orgs/{org}"));
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        var dueAt = world.Clock.GetUtcNow().AddDays(30);
        world.Clock.Advance(TimeSpan.FromDays(29));
        keeper = await world.AgainAsync(keeper);
        using (var restored = await keeper.PostAsync($"/api/v1/orgs/{keptOrg}/restore"))
        {
            Assert.Equal(HttpStatusCode.OK, restored.StatusCode);
        }

        await SettleRateLimitsAsync(app);
        world.Clock.Advance(TimeSpan.FromDays(2));
        var message = JsonSerializer.Serialize(new PurgeOrgMessage(orgId, OrgPurgeStage.Org, dueAt), new JsonSerializerOptions(JsonSerializerDefaults.Web));
        var stale = JsonSerializer.Serialize(new PurgeOrgMessage(keptOrg, OrgPurgeStage.Org, dueAt), new JsonSerializerOptions(JsonSerializerDefaults.Web));
        var answers = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => app.InvokeAsync(PurgeOrg.FunctionName, HostInvocations.QueueTextEnvelope(message))));
        foreach (var answer in answers)
        {
            using (answer)
            {
                Assert.True(answer.IsSuccessStatusCode, await answer.Content.ReadAsStringAsync());
            }
        }
        using (var again = await app.InvokeAsync(PurgeOrg.FunctionName, HostInvocations.QueueTextEnvelope(message, dequeueCount: 2)))
        {
            Assert.True(again.IsSuccessStatusCode);
        }

        using (var restoredOrg = await app.InvokeAsync(PurgeOrg.FunctionName, HostInvocations.QueueTextEnvelope(stale)))
        {
            Assert.True(restoredOrg.IsSuccessStatusCode);
        }

        Assert.Equal([OrgPurgeStage.Records, OrgPurgeStage.Sweep], (await EntriesAsync(app, orgId)).Order());
        world.Clock.Advance(TimeSpan.FromDays(1));
        Assert.Single(await RunPurgeAsync(app, orgId));
        var left = await TracesAsync(app, orgId);
        Assert.True(left.All(t => Financial.Contains(t.Split(' ')[0])), "Left after the purge:\n" + string.Join("\n", left.Where(t => !Financial.Contains(t.Split(' ')[0]))));
        Assert.Equal(OrgPurgeStage.Records, Assert.Single(await EntriesAsync(app, orgId)));
        keeper = await world.AgainAsync(keeper);
        Assert.Equal("Org", (await keeper.GetJsonAsync($"/api/v1/orgs/{keptOrg}")).GetProperty("name").GetString()![..3]);
        Assert.NotEmpty((await keeper.GetJsonAsync($"/api/v1/orgs/{keptOrg}/members")).GetProperty("data").EnumerateArray());
    }

    [Fact]
    public async Task Work_that_read_the_org_before_its_purge_writes_nothing_once_it_began_and_what_it_wrote_behind_it_is_swept_a_day_later()
    {
        await using var world = await InvoiceWorld.StartAsync(Start, more: PurgeSettings());
        var app = world.App;
        var (owner, orgId) = await world.NewOrgAsync();
        string endpointId;
        using (var hook = await owner.PostAsync($"/api/v1/orgs/{orgId}/webhook-endpoints", body: new { url = "https://hooks.example.com/raptorflow" }))
        {
            Assert.True(hook.StatusCode == HttpStatusCode.Created, await hook.Content.ReadAsStringAsync());
            endpointId = (await hook.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("endpoint").GetProperty("id").GetString()!;
        }

        // Read before the purge: the endpoint (by a delivery), and a mail of an earlier event.
        var endpoint = (await app.Services.GetRequiredService<WebhookDeliveries>().FindEndpointAsync(orgId, endpointId, CancellationToken.None))!;
        var claimed = LateMail(orgId);
        var queued = LateMail(orgId);
        using (var deleted = await owner.Client.DeleteAsync(Url($"/api/v1/orgs/{orgId}")))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        await SettleRateLimitsAsync(app);
        world.Clock.Advance(TimeSpan.FromDays(30) + TimeSpan.FromMinutes(1));
        Assert.Equal(OrgPurgeStage.Org, StageOf(Assert.Single(await RunPurgeAsync(app, orgId))));

        // Work that starts now finds the purge begun and writes nothing.
        var limit = new RequestLimit(WebhookRateLimits.NameOf(endpoint), 5, TimeSpan.FromSeconds(1));
        var sends = new WebhookRateLimits(NewInstance(app), app.Services.GetRequiredService<OrgPurgeSchedule>(), app.Services.GetRequiredService<IOptions<WebhookSettings>>());
        Assert.False(await sends.TryAcquireAsync(endpoint, CancellationToken.None));
        using (var mail = await app.InvokeAsync(SendEmail.FunctionName, HostInvocations.QueueTextEnvelope(JsonSerializer.Serialize(queued, MailOutbox.Json))))
        {
            Assert.True(mail.IsSuccessStatusCode, await mail.Content.ReadAsStringAsync());
        }

        var sent = app.Services.GetRequiredService<SentMail>();
        Assert.Null(await sent.FindAsync(orgId, queued.MessageId, CancellationToken.None));
        var after = await TracesAsync(app, orgId);
        Assert.True(after.All(t => Financial.Contains(t.Split(' ')[0])), "Written after the purge began:\n" + string.Join("\n", after.Where(t => !Financial.Contains(t.Split(' ')[0]))));

        // Work that checked before it began writes behind it: another instance leases the endpoint's
        // send-limit bucket, a send claims its mail.
        Assert.True((await NewInstance(app).TryTakeAllAsync([limit], CancellationToken.None)).Allowed);
        await sent.ClaimAsync(claimed, "Smtp", 100, "queue-message-1", CancellationToken.None);
        var behind = (await TracesAsync(app, orgId)).Select(t => t.Split(' ')[0]).ToList();
        Assert.Contains("RateLimits", behind);
        Assert.Contains(SentMail.TableName, behind);

        world.Clock.Advance(TimeSpan.FromHours(11));
        Assert.Empty(await RunPurgeAsync(app, orgId));
        world.Clock.Advance(TimeSpan.FromHours(13));
        Assert.Equal(OrgPurgeStage.Sweep, StageOf(Assert.Single(await RunPurgeAsync(app, orgId))));
        var left = await TracesAsync(app, orgId);
        Assert.True(left.All(t => Financial.Contains(t.Split(' ')[0])), "Left after the sweep:\n" + string.Join("\n", left.Where(t => !Financial.Contains(t.Split(' ')[0]))));
        Assert.Equal(OrgPurgeStage.Records, Assert.Single(await EntriesAsync(app, orgId)));
    }

    [Fact]
    public async Task Orgs_deleted_before_the_grace_existed_are_scheduled_by_the_daily_purge_from_their_deletion_and_purged()
    {
        await using var world = await InvoiceWorld.StartAsync(Start, more: PurgeSettings());
        var app = world.App;
        var (owner, orgId) = await world.NewOrgAsync();
        var (_, liveOrg) = await world.NewOrgAsync();
        using (var deleted = await owner.Client.DeleteAsync(Url($"/api/v1/orgs/{orgId}")))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        // As the delete wrote it before the grace existed: a deletion date, no purge date, no entry.
        var orgs = app.Storage.Table(OrgTable.Name);
        var row = (await orgs.GetEntityAsync<OrgRow>(orgId, OrgTable.OrgRowKey)).Value;
        var deletedAt = row.DeletedAt!.Value;
        await app.Services.GetRequiredService<OrgPurgeSchedule>().RemoveAsync(orgId, row.PurgeAfter!.Value, OrgPurgeStage.Org, CancellationToken.None);
        row.PurgeAfter = null;
        await orgs.UpdateEntityAsync(row, row.ETag, TableUpdateMode.Replace);
        Assert.Empty(await EntriesAsync(app, orgId));
        // The first run after the change (any other test's run may have been first).
        await app.Storage.Table(OrgPurgeSchedule.TableName).DeleteEntityAsync(PreGraceDeletions.MarkerPartition, PreGraceDeletions.MarkerRow);

        world.Clock.Advance(TimeSpan.FromDays(10));
        Assert.Empty(await RunPurgeAsync(app, orgId));
        var purgeAfter = (await orgs.GetEntityAsync<OrgRow>(orgId, OrgTable.OrgRowKey)).Value.PurgeAfter;
        Assert.Equal(deletedAt.AddDays(30).UtcTicks / TimeSpan.TicksPerSecond, purgeAfter!.Value.UtcTicks / TimeSpan.TicksPerSecond);
        Assert.Equal(OrgPurgeStage.Org, Assert.Single(await EntriesAsync(app, orgId)));
        Assert.Empty(await EntriesAsync(app, liveOrg));

        world.Clock.Advance(TimeSpan.FromDays(21));
        Assert.Equal(OrgPurgeStage.Org, StageOf(Assert.Single(await RunPurgeAsync(app, orgId))));
        Assert.False((await orgs.GetEntityIfExistsAsync<OrgRow>(orgId, OrgTable.OrgRowKey)).HasValue);
        Assert.True((await orgs.GetEntityIfExistsAsync<OrgRow>(liveOrg, OrgTable.OrgRowKey)).HasValue);
    }

    [Fact]
    public async Task Every_declared_table_and_container_is_purged_kept_for_tax_or_named_as_holding_no_org_data()
    {
        await using var app = await TestApp.StartAsync(hostDrivesTriggers: true);
        var declared = app.Services.GetServices<Functions.Platform.Storage.StorageResource>()
            .Where(r => r.Kind != Functions.Platform.Storage.StorageResourceKind.Queue)
            .Select(r => $"{r.Kind} {r.Name}").ToHashSet();
        var holders = app.Services.GetRequiredService<OrgDataCatalog>().Holders;
        var listed = holders.Select(h => $"{h.Kind} {h.Name}").ToList();

        Assert.Equal(listed.Count, listed.Distinct().Count());
        Assert.True(declared.SetEquals(listed),
            $"Declared but not in the catalog: {string.Join(", ", declared.Except(listed))}; in the catalog but not declared: {string.Join(", ", listed.Except(declared))}");
        Assert.All(holders.Where(h => h.Kind == Functions.Platform.Storage.StorageResourceKind.Table && h.Fate == OrgDataFate.Purged),
            h => Assert.NotNull(h.Remove));
    }

    /// <summary>
    /// The app delivers no webhooks in the background: a delivery that read the endpoint before the purge
    /// would lease its send limit behind it at any moment, where a test moves a fake clock by days in
    /// milliseconds (the sweep a day later removes it; the test of work behind a purge leases it itself).
    /// </summary>
    private static Dictionary<string, string?> PurgeSettings()
    {
        var settings = Settings();
        settings[$"AzureWebJobs.{DeliverWebhook.FunctionName}.Disabled"] = "true";
        return settings;
    }

    /// <summary>Members, an invitation, a key, a webhook endpoint with a message, usage, an export, events and audit: a row in most tables.</summary>
    private static async Task FillAsync(TestApp app, TestUser owner, string orgId, string slug)
    {
        using (var renamed = await owner.Client.PatchAsJsonAsync(Url($"/api/v1/orgs/{orgId}"), new { slug }))
        {
            Assert.True(renamed.IsSuccessStatusCode, await renamed.Content.ReadAsStringAsync());
        }

        var admin = await app.SignInAsync();
        await owner.AddMemberAsync(orgId, admin, "admin");
        using (var invite = await owner.PostAsync($"/api/v1/orgs/{orgId}/invitations", body: new { email = $"pending-{Guid.NewGuid():N}@example.test", role = "viewer" }))
        {
            Assert.Equal(HttpStatusCode.Created, invite.StatusCode);
        }

        using (var key = await owner.PostAsync($"/api/v1/orgs/{orgId}/api-keys", body: new { name = "CI", capabilities = new[] { "usage:write" } }))
        {
            Assert.Equal(HttpStatusCode.Created, key.StatusCode);
        }

        using (var hook = await owner.PostAsync($"/api/v1/orgs/{orgId}/webhook-endpoints", body: new { url = "https://hooks.example.com/raptorflow" }))
        {
            Assert.True(hook.StatusCode == HttpStatusCode.Created, await hook.Content.ReadAsStringAsync());
        }

        using (var usage = await owner.PostAsync($"/api/v1/orgs/{orgId}/usage-events",
            body: new { events = new[] { new { id = "evt-purge-1", meter = "api_calls", quantity = 3, timestamp = app.Services.GetRequiredService<TimeProvider>().GetUtcNow().ToString("O") } } }))
        {
            Assert.True(usage.IsSuccessStatusCode, await usage.Content.ReadAsStringAsync());
        }

        await app.Services.GetRequiredService<UsageRollup>().RunForOrgAsync(orgId, CancellationToken.None);
        using (var renamed = await owner.Client.PatchAsJsonAsync(Url($"/api/v1/orgs/{orgId}"), new { name = "Purged Co" }))
        {
            Assert.True(renamed.IsSuccessStatusCode);
        }

        await owner.RequestExportAsync($"/api/v1/orgs/{orgId}/exports");
        await app.DispatchEventsAsync();
    }

    private static OutgoingMail LateMail(string orgId) =>
        new($"mail-{Guid.NewGuid():N}", orgId, "invitation", [new MailRecipient("late@example.test")], "Join", "<p>Join</p>", "Join", Transactional: true);

    /// <summary>Shared rate limits as another instance of the app holds them: nothing leased yet.</summary>
    private static SharedRateLimits NewInstance(TestApp app) =>
        new(app.Services.GetRequiredService<StorageAccount>(), app.Services.GetRequiredService<TimeProvider>(),
            app.Services.GetRequiredService<IOptions<RateLimitSettings>>(), NullLogger<SharedRateLimits>.Instance);

    private static OrgPurgeStage StageOf(string message) =>
        JsonSerializer.Deserialize<PurgeOrgMessage>(message, new JsonSerializerOptions(JsonSerializerDefaults.Web))!.Stage;

    private static async Task<List<OrgPurgeStage>> EntriesAsync(TestApp app, string orgId)
    {
        var entries = new List<OrgPurgeStage>();
        await foreach (var entry in app.Services.GetRequiredService<OrgPurgeSchedule>().OfOrgAsync(orgId, CancellationToken.None))
        {
            entries.Add(entry.ParsedStage);
        }

        return entries;
    }

    private static async Task<HttpStatusCode> CreateWithSlugAsync(TestUser user, string slug)
    {
        using var created = await user.Client.PostAsJsonAsync(Url("/api/v1/orgs"), new { name = "Next", slug });
        return created.StatusCode;
    }

    /// <summary>Buckets a deleted org's users leased are given back after idle syncs; settle them so none is written back after the purge.</summary>
    private static async Task SettleRateLimitsAsync(TestApp app)
    {
        for (var i = 0; i < 6; i++)
        {
            await app.SyncRateLimitsAsync();
        }
    }

    /// <summary>
    /// Runs the PurgeDeletedOrgs timer as the host does, then delivers its messages for <paramref name="orgId"/>
    /// (twice each: a duplicate delivery) and drops the others (other tests' orgs in the shared storage).
    /// </summary>
    private static async Task<List<string>> RunPurgeAsync(TestApp app, string orgId)
    {
        using (var timer = await app.InvokeAsync(PurgeDeletedOrgs.FunctionName, HostInvocations.TimerEnvelope()))
        {
            Assert.True(timer.IsSuccessStatusCode, await timer.Content.ReadAsStringAsync());
        }

        var queue = app.Storage.Queue(app.Services.GetRequiredService<PurgeOrgQueue>().Name);
        var delivered = new List<string>();
        while ((await queue.ReceiveMessagesAsync(32)).Value is { Length: > 0 } messages)
        {
            foreach (var message in messages)
            {
                var text = message.Body.ToString();
                if (text.Contains(orgId, StringComparison.Ordinal))
                {
                    for (var i = 1; i <= 2; i++)
                    {
                        using var response = await app.InvokeAsync(PurgeOrg.FunctionName, HostInvocations.QueueTextEnvelope(text, i));
                        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
                    }

                    delivered.Add(text);
                }

                await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
            }
        }

        return delivered;
    }

    /// <summary>Every property of the org's partition of <paramref name="table"/>, as text, to compare before and after.</summary>
    private static async Task<List<string>> RowsAsync(TestApp app, string table, string orgId)
    {
        var rows = new List<string>();
        await foreach (var row in app.Storage.Table(table).QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {orgId}")))
        {
            // An event's outbox row is removed once the event is dispatched; it is no record.
            if (row.RowKey.StartsWith(OutboxKeys.RowPrefix, StringComparison.Ordinal))
            {
                continue;
            }

            rows.Add(string.Join(";", row.Where(p => p.Key is not ("odata.etag" or "Timestamp")).OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}")));
        }

        return rows;
    }

    /// <summary>
    /// "table partition row" of every row of every table naming the org in a key or a value, and "container blob" of
    /// every blob naming it; idempotency records past their expiry are left out, as the hourly PurgeIdempotencyKeys
    /// deletes them (every one of the org's expired within a day of its deletion).
    /// </summary>
    private static async Task<List<string>> TracesAsync(TestApp app, string orgId)
    {
        var now = app.Services.GetRequiredService<TimeProvider>().GetUtcNow();
        var traces = new List<string>();
        await foreach (var table in app.Storage.Tables.QueryAsync())
        {
            if (!app.MayHoldDataOf(table.Name))
            {
                continue;
            }

            await foreach (var row in app.Storage.Table(table.Name).QueryAsync<TableEntity>())
            {
                var text = string.Join("\n", row.Select(p => p.Value switch
                {
                    string s => s,
                    byte[] bytes => Encoding.UTF8.GetString(bytes),
                    BinaryData data => data.ToString(),
                    _ => "",
                }));
                var expired = table.Name == IdempotencyRegistration.TableName && row.GetDateTimeOffset("ExpiresAt") < now;
                if (!expired && (row.PartitionKey + row.RowKey + text).Contains(orgId, StringComparison.Ordinal))
                {
                    traces.Add($"{RoleOf(app, table.Name)} {row.PartitionKey} {row.RowKey}");
                }
            }
        }

        await foreach (var (container, name, content) in app.StoredBlobsAsync())
        {
            if (name.Contains(orgId, StringComparison.Ordinal) || Encoding.UTF8.GetString(content).Contains(orgId, StringComparison.Ordinal))
            {
                traces.Add($"{container} {name}");
            }
        }

        return traces;
    }

    /// <summary>The table's name in Azure, for the tables each test app names for itself.</summary>
    private static string RoleOf(TestApp app, string table) =>
        table == app.Services.GetRequiredService<IOptions<RateLimitSettings>>().Value.Table ? "RateLimits"
        : table == app.Services.GetRequiredService<PendingEventsTable>().Name ? "EventOutbox"
        : table == app.Services.GetRequiredService<RazorpayInboxTable>().Name ? "RazorpayInbox"
        : table;
}

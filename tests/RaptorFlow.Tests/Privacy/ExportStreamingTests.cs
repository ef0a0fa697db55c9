using Azure.Data.Tables;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using RaptorFlow.Functions.Audit;
using RaptorFlow.Functions.Platform.Ids;
using RaptorFlow.Functions.Privacy;
using RaptorFlow.Tests.Fixtures;
using static RaptorFlow.Tests.Privacy.ExportTestKit;

namespace RaptorFlow.Tests.Privacy;

public sealed class ExportStreamingTests : IAsyncLifetime
{
    private TestApp _app = null!;

    public async Task InitializeAsync() => _app = await TestApp.StartAsync(Settings(), hostDrivesTriggers: true);

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task A_large_export_is_uploaded_in_a_few_large_blocks_not_a_block_per_row()
    {
        // A blob holds at most 50,000 blocks: an archive uploaded a block per row could never hold a large org.
        const int Events = 3_000;
        var (owner, orgId) = await _app.NewOrgAsync();
        var audit = _app.Storage.Table(AuditLog.TableName);
        var start = DateTimeOffset.UtcNow.AddDays(-30);
        foreach (var chunk in Enumerable.Range(0, Events).Chunk(100))
        {
            await audit.SubmitTransactionAsync(chunk.Select(i =>
            {
                var at = start.AddMinutes(i);
                var id = IdGenerator.Derived("evt", at, $"{orgId}|{i}");
                return new TableTransactionAction(TableTransactionActionType.Add, new AuditEventRow
                {
                    PartitionKey = orgId,
                    RowKey = AuditLog.RowKeyFor(at, id),
                    EventId = id,
                    Action = "member.role_changed",
                    ActorKind = "user",
                    ActorId = "user-1",
                    ActorRef = "user:user-1",
                    TargetType = "member",
                    TargetId = $"member-{i}",
                    OccurredAt = at,
                });
            }));
        }

        var exportId = await owner.RequestExportAsync($"/api/v1/orgs/{orgId}/exports");
        Assert.Single(await _app.DrainQueueAsync(WriteExport.FunctionName));

        var export = await owner.GetJsonAsync($"/api/v1/orgs/{orgId}/exports/{exportId}");
        var archive = await DownloadAsync(export);
        Assert.True(archive.Rows("audit-events.ndjson").Count >= Events);
        var blob = _app.Storage.Container(ExportBook.Container).GetBlockBlobClient(ExportKeys.BlobName(orgId, exportId));
        var blocks = (await blob.GetBlockListAsync(BlockListTypes.Committed)).Value.CommittedBlocks.Count();
        Assert.InRange(blocks, 1, 4);
    }
}

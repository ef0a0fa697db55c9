using Azure;
using Azure.Data.Tables;
using RaptorFlow.Functions.Platform.Paging;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Organizations;

/// <summary>
/// The <c>UserOrgs</c> index of a user's orgs. An entry is written before the membership it points
/// at and removed after it, so an entry alone is harmless: readers verify it against the member row.
/// </summary>
public sealed class UserOrgIndex(StorageAccount storage)
{
    private TableClient Table => storage.Table(UserOrgRow.TableName);

    public async Task AddAsync(string userId, string orgId, DateTimeOffset now) =>
        await Table.UpsertEntityAsync(new UserOrgRow { PartitionKey = userId, RowKey = orgId, AddedAt = now }, TableUpdateMode.Replace);

    public async Task RemoveAsync(string userId, string orgId)
    {
        try
        {
            await Table.DeleteEntityAsync(userId, orgId, ETag.All, CancellationToken.None);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
        }
    }

    public Task<(IReadOnlyList<UserOrgRow> Items, string? NextCursor)> ReadPageAsync(string userId, PageRequest page, CancellationToken cancellationToken) =>
        Table.ReadPageAsync<UserOrgRow>(TableClient.CreateQueryFilter($"PartitionKey eq {userId}"), page, cancellationToken);
}

using Azure;
using Azure.Data.Tables;
using RaptorFlow.Functions.Organizations;
using RaptorFlow.Functions.Platform.Paging;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Webhooks;

/// <summary>
/// An org's webhook endpoints and their delivery logs as rows. Endpoints are added once, listed by
/// their own key range (other rows may share the org's partition), changed and deleted under the
/// ETag they were read with.
/// </summary>
public sealed class WebhookEndpointBook(StorageAccount storage, WebhookDeliveries deliveries)
{
    private TableClient Endpoints => storage.Table(WebhookEndpointRow.TableName);

    public Task<WebhookEndpointRow?> FindAsync(string orgId, string endpointId, CancellationToken cancellationToken) =>
        deliveries.FindEndpointAsync(orgId, endpointId, cancellationToken);

    public async Task AddAsync(WebhookEndpointRow row, CancellationToken cancellationToken)
    {
        var added = await Endpoints.AddEntityAsync(row, cancellationToken);
        row.ETag = added.Headers.ETag ?? default;
    }

    public Task<(IReadOnlyList<WebhookEndpointRow> Items, string? NextCursor)> PageAsync(string orgId, PageRequest page, CancellationToken cancellationToken) =>
        Endpoints.ReadPageAsync<WebhookEndpointRow>(WebhookDeliveries.EndpointsOf(orgId), page, cancellationToken);

    /// <summary>
    /// Applies <paramref name="change"/> to the endpoint and saves it under the ETag it was read with.
    /// Without If-Match a lost race reads again and re-applies; with it, a stale ETag is final.
    /// <paramref name="change"/> answers a rejection to leave the endpoint as it was.
    /// </summary>
    public async Task<EndpointEdit<TRejection>> EditAsync<TRejection>(
        string orgId, string endpointId, ETag? ifMatch, Func<WebhookEndpointRow, TRejection?> change, CancellationToken cancellationToken,
        Func<WebhookEndpointRow, bool>? changed = null)
        where TRejection : class =>
        await OptimisticConcurrency.RunAsync<EndpointEdit<TRejection>>(
            ConcurrencyPolicy.Edit,
            async _ =>
            {
                if (await FindAsync(orgId, endpointId, cancellationToken) is not { } row)
                {
                    return new EndpointEdit<TRejection>(EndpointEditOutcome.NotFound);
                }

                if (!ifMatch.Matches(row.ETag))
                {
                    return new EndpointEdit<TRejection>(EndpointEditOutcome.Stale);
                }

                if (change(row) is { } rejection)
                {
                    return new EndpointEdit<TRejection>(EndpointEditOutcome.Rejected, Rejection: rejection);
                }

                if (changed is not null && !changed(row))
                {
                    return new EndpointEdit<TRejection>(EndpointEditOutcome.Unchanged, row);
                }

                try
                {
                    var updated = await Endpoints.UpdateEntityAsync(row, row.ETag, TableUpdateMode.Replace, cancellationToken);
                    row.ETag = updated.Headers.ETag ?? default;
                    return new EndpointEdit<TRejection>(EndpointEditOutcome.Saved, row);
                }
                catch (RequestFailedException ex) when (ex.Status == 412)
                {
                    return ifMatch is null ? Attempt.LostRace<EndpointEdit<TRejection>>() : new EndpointEdit<TRejection>(EndpointEditOutcome.Stale);
                }
            },
            cancellationToken,
            exhausted: () => new EndpointEdit<TRejection>(EndpointEditOutcome.Stale));

    /// <summary>Deletes the endpoint if it still has the ETag the caller names (any, without one); the row as it was when deleted.</summary>
    public async Task<EndpointEdit<object>> DeleteAsync(string orgId, string endpointId, ETag? ifMatch, CancellationToken cancellationToken)
    {
        if (await FindAsync(orgId, endpointId, cancellationToken) is not { } row)
        {
            return new EndpointEdit<object>(EndpointEditOutcome.NotFound);
        }

        if (!ifMatch.Matches(row.ETag))
        {
            return new EndpointEdit<object>(EndpointEditOutcome.Stale);
        }

        try
        {
            await Endpoints.DeleteEntityAsync(orgId, endpointId, ifMatch ?? ETag.All, cancellationToken);
            return new EndpointEdit<object>(EndpointEditOutcome.Saved, row);
        }
        catch (RequestFailedException ex) when (ex.Status is 412 or 404)
        {
            return new EndpointEdit<object>(ex.Status == 404 ? EndpointEditOutcome.NotFound : EndpointEditOutcome.Stale);
        }
    }

    /// <summary>A page of the endpoint's delivery log, in event order, narrowed to one status when given.</summary>
    public Task<(IReadOnlyList<WebhookMessageRow> Items, string? NextCursor)> PageDeliveriesAsync(
        WebhookEndpointRow endpoint, string? status, PageRequest page, CancellationToken cancellationToken)
    {
        var partition = WebhookMessageRow.PartitionFor(endpoint.OrgId, endpoint.EndpointId);
        var filter = status is null
            ? TableClient.CreateQueryFilter($"PartitionKey eq {partition}")
            : TableClient.CreateQueryFilter($"PartitionKey eq {partition} and Status eq {status}");
        return storage.Table(WebhookMessageRow.TableName).ReadPageAsync<WebhookMessageRow>(filter, page, cancellationToken, WebhookMessageRow.LogColumns);
    }
}

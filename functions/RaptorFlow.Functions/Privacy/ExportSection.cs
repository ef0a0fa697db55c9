using Azure.Data.Tables;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Privacy;

/// <summary>
/// One NDJSON file of an export: the rows it reads, one JSON object per row. <paramref name="PartitionAs"/>
/// names the partition key's column when rows come from several partitions (a user's orgs).
/// </summary>
public sealed record ExportSection(
    string File,
    Func<StorageAccount, CancellationToken, IAsyncEnumerable<TableEntity>> Rows,
    string? PartitionAs = null)
{
    /// <summary>Every row of <paramref name="table"/> matching <paramref name="filter"/>, only <paramref name="select"/> columns when given.</summary>
    public static ExportSection Query(string file, string table, FormattableString filter, IReadOnlyList<string>? select = null, string? partitionAs = null) =>
        new(file, (storage, ct) => storage.Table(table).QueryAsync<TableEntity>(TableClient.CreateQueryFilter(filter), maxPerPage: 1000, select, ct), partitionAs);

    /// <summary>The rows of one partition of <paramref name="table"/> whose keys start with <paramref name="prefix"/>.</summary>
    public static FormattableString Prefixed(string partition, string prefix) =>
        $"PartitionKey eq {partition} and RowKey ge {prefix} and RowKey lt {PrefixEnd(prefix)}";

    /// <summary>The first key after every key starting with <paramref name="prefix"/>.</summary>
    public static string PrefixEnd(string prefix) => prefix[..^1] + (char)(prefix[^1] + 1);

    /// <summary>The sections of <paramref name="sections"/> over each org in turn, as one file each.</summary>
    public static ExportSection Across(string file, Func<StorageAccount, CancellationToken, IAsyncEnumerable<string>> orgs, Func<string, ExportSection> section) =>
        new(file, (storage, ct) => AcrossAsync(storage, orgs, section, ct), "orgId");

    private static async IAsyncEnumerable<TableEntity> AcrossAsync(
        StorageAccount storage, Func<StorageAccount, CancellationToken, IAsyncEnumerable<string>> orgs, Func<string, ExportSection> section,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var orgId in orgs(storage, cancellationToken))
        {
            await foreach (var row in section(orgId).Rows(storage, cancellationToken))
            {
                yield return row;
            }
        }
    }
}

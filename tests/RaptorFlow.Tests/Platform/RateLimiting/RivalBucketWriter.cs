using System.Net;
using System.Text.RegularExpressions;
using Azure;
using Azure.Data.Tables;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using RaptorFlow.Functions.Platform.RateLimiting;
using RaptorFlow.Functions.Platform.Storage;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Platform.RateLimiting;

/// <summary>
/// Another instance that writes a shared bucket's row between every read and write of a lease: an
/// HTTP relay in front of Azurite's table endpoint that, while <see cref="Armed"/>, rewrites the row
/// (same values, new ETag; a full bucket when missing) right after each read of it is answered. Every
/// lease round then loses its race (412, or 409 for a row it meant to add) however it is scheduled.
/// </summary>
public sealed partial class RivalBucketWriter : IAsyncDisposable
{
    private readonly WebApplication _relay;
    private readonly HttpClient _upstream;
    private readonly TableClient _rival;
    private readonly long _fullCredits;
    private int _writes;

    private RivalBucketWriter(WebApplication relay, Azurite azurite, string table, int limit)
    {
        _relay = relay;
        _upstream = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{azurite.TablePort}") };
        _rival = new TableClient(azurite.ConnectionString, table);
        _fullCredits = SharedBucket.Capacity(limit);
        Table = table;
    }

    public string Table { get; }

    public bool Armed { get; set; }

    /// <summary>Runs after a read of a bucket's row (given its partition key) is answered upstream and before the reader has the answer.</summary>
    public Func<string, Task>? AfterRead { get; set; }

    /// <summary>Rows rewritten under a lease so far.</summary>
    public int Writes => Volatile.Read(ref _writes);

    /// <summary>Table storage through the relay; blobs and queues straight to Azurite.</summary>
    public string ConnectionString { get; private set; } = "";

    /// <summary>A storage account whose table calls go through the relay.</summary>
    public StorageAccount Storage() => new(new ConfigurationBuilder()
        .AddInMemoryCollection(new Dictionary<string, string?> { [StorageAccount.SettingName] = ConnectionString }).Build());

    /// <summary>A relay over <paramref name="table"/>, whose missing rows it writes as full buckets of <paramref name="limit"/> tokens.</summary>
    public static async Task<RivalBucketWriter> StartAsync(Azurite azurite, string table, int limit)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var relay = builder.Build();
        var writer = new RivalBucketWriter(relay, azurite, table, limit);
        relay.Run(writer.RelayAsync);
        await relay.StartAsync();
        var port = new Uri(relay.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;
        writer.ConnectionString = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;" +
            $"AccountKey={Azurite.DevelopmentAccountKey};" +
            $"BlobEndpoint=http://127.0.0.1:{azurite.BlobPort}/devstoreaccount1;" +
            $"QueueEndpoint=http://127.0.0.1:{azurite.QueuePort}/devstoreaccount1;" +
            $"TableEndpoint=http://127.0.0.1:{port}/devstoreaccount1;";
        await writer._rival.CreateIfNotExistsAsync();
        return writer;
    }

    public async ValueTask DisposeAsync()
    {
        await _relay.DisposeAsync();
        _upstream.Dispose();
    }

    private async Task RelayAsync(HttpContext context)
    {
        // The raw target, as signed by the client (a decoded path would no longer match its signature).
        var target = context.Features.Get<IHttpRequestFeature>()!.RawTarget;
        using var request = new HttpRequestMessage(new HttpMethod(context.Request.Method), target);
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body, context.RequestAborted);
        request.Content = new ByteArrayContent(body.ToArray());
        foreach (var (name, values) in context.Request.Headers)
        {
            if (name is "Host" or "Content-Length" or "Transfer-Encoding" or "Connection")
            {
                continue;
            }

            if (!request.Headers.TryAddWithoutValidation(name, values.ToArray()))
            {
                request.Content.Headers.TryAddWithoutValidation(name, values.ToArray());
            }
        }

        using var response = await _upstream.SendAsync(request, context.RequestAborted);
        var answer = await response.Content.ReadAsByteArrayAsync(context.RequestAborted);
        if (HttpMethods.IsGet(context.Request.Method) && BucketRead().Match(Uri.UnescapeDataString(target)) is { Success: true } read
            && read.Groups["table"].Value == Table)
        {
            var key = read.Groups["key"].Value.Replace("''", "'", StringComparison.Ordinal);
            if (Armed)
            {
                await RewriteAsync(key);
            }

            if (AfterRead is { } afterRead)
            {
                await afterRead(key);
            }
        }

        context.Response.StatusCode = (int)response.StatusCode;
        foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
        {
            if (name is not ("Transfer-Encoding" or "Connection" or "Content-Length"))
            {
                context.Response.Headers[name] = values.ToArray();
            }
        }

        if (response.StatusCode != HttpStatusCode.NoContent)
        {
            await context.Response.Body.WriteAsync(answer, context.RequestAborted);
        }
    }

    private async Task RewriteAsync(string partitionKey)
    {
        var existing = await _rival.GetEntityIfExistsAsync<SharedBucketRow>(partitionKey, SharedBucketRow.Row);
        if (existing.HasValue)
        {
            await _rival.UpdateEntityAsync(existing.Value!, ETag.All, TableUpdateMode.Replace);
        }
        else
        {
            await _rival.AddEntityAsync(new SharedBucketRow { PartitionKey = partitionKey, Credits = _fullCredits, PerMinute = 1 });
        }

        Interlocked.Increment(ref _writes);
    }

    [GeneratedRegex(@"^/[^/]+/(?<table>[^/(]+)\(PartitionKey='(?<key>.*)',RowKey='bucket'\)")]
    private static partial Regex BucketRead();
}

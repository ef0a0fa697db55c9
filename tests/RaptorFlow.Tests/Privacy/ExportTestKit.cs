using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure.Data.Tables;
using RaptorFlow.Functions.Idempotency;
using RaptorFlow.Functions.Privacy;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Privacy;

/// <summary>Requests exports, runs the queue as the host does, and opens the archives.</summary>
public static class ExportTestKit
{
    public static Dictionary<string, string?> Settings(IDictionary<string, string?>? more = null)
    {
        var settings = SignedInUsers.WithDevIssuer(more);
        settings["Privacy:ExportQueue"] = $"{ExportQueue.Default}-{Guid.NewGuid():N}";
        settings["Privacy:ErasureQueue"] = $"{ErasureQueue.Default}-{Guid.NewGuid():N}";
        settings["Webhooks:AllowPrivateNetworks"] = "true";

        // Queues of the app's own: another test's app polling the shared ones would deliver this app's
        // webhooks, and lease their send limits, at any time, even behind a purge.
        var suffix = Guid.NewGuid().ToString("N")[..16];
        settings["Webhooks:DeliveryQueue"] = "whd-" + suffix;
        settings["Webhooks:RecoveryQueue"] = "whr-" + suffix;
        MailQueueReader.WithOwnMailQueue(settings);
        return settings;
    }

    public static Uri Url(string path) => new(path, UriKind.Relative);

    public static async Task<HttpResponseMessage> PostAsync(this TestUser user, string path, string? idempotencyKey = null, object? body = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Url(path)) { Content = JsonContent.Create(body ?? new { }) };
        request.Headers.Add(IdempotencyMiddleware.KeyHeader, idempotencyKey ?? Guid.NewGuid().ToString());
        return await user.Client.SendAsync(request);
    }

    /// <summary>Requests an export at <paramref name="path"/>; returns its id.</summary>
    public static async Task<string> RequestExportAsync(this TestUser user, string path)
    {
        using var response = await user.PostAsync(path);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }

    public static async Task<JsonElement> GetJsonAsync(this TestUser user, string path)
    {
        using var response = await user.Client.GetAsync(Url(path));
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {await response.Content.ReadAsStringAsync()}");
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>The archive behind a ready export's download URL, fetched as any browser would, with no credentials.</summary>
    public static async Task<ExportArchiveFiles> DownloadAsync(JsonElement export)
    {
        Assert.Equal("ready", export.GetProperty("status").GetString());
        using var http = new HttpClient();
        var bytes = await http.GetByteArrayAsync(new Uri(export.GetProperty("downloadUrl").GetString()!));
        using var zip = new ZipArchive(new MemoryStream(bytes), ZipArchiveMode.Read);
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var entry in zip.Entries)
        {
            await using var stream = await entry.OpenAsync();
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy);
            files[entry.FullName] = copy.ToArray();
        }

        return new ExportArchiveFiles(bytes.LongLength, files);
    }

    /// <summary>The document without its top-level timestamps (when it was computed), to compare contents.</summary>
    public static string WithoutTimes(JsonElement document) => string.Join(",", document.EnumerateObject()
        .Where(p => p.Value.ValueKind != JsonValueKind.String || !p.Value.TryGetDateTimeOffset(out _))
        .Select(p => p.ToString()));

    /// <summary>
    /// Every text and byte value of every row of every table and the messages of every queue that may hold
    /// the app's data (<see cref="TestApp.MayHoldDataOf"/>; the first 32 of each, poison queues included: a
    /// peek takes no more), and every blob (zip entries opened), of the test's storage.
    /// </summary>
    public static async Task<string> StoredTextAsync(this TestApp app)
    {
        var text = new StringBuilder();
        await foreach (var queue in app.Storage.Queues.GetQueuesAsync())
        {
            if (!app.MayHoldDataOf(queue.Name))
            {
                continue;
            }

            foreach (var message in (await app.Storage.Queue(queue.Name).PeekMessagesAsync(32)).Value)
            {
                text.Append(message.Body.ToString()).Append('\n');
            }
        }

        await foreach (var table in app.Storage.Tables.QueryAsync())
        {
            if (!app.MayHoldDataOf(table.Name))
            {
                continue;
            }

            await foreach (var row in app.Storage.Table(table.Name).QueryAsync<TableEntity>())
            {
                foreach (var value in row.Select(p => p.Value))
                {
                    text.Append(value switch
                    {
                        string s => s,
                        byte[] bytes => Encoding.UTF8.GetString(bytes),
                        BinaryData data => data.ToString(),
                        _ => "",
                    }).Append('\n');
                }

                text.Append(row.PartitionKey).Append(row.RowKey).Append('\n');
            }
        }

        await foreach (var (_, name, content) in app.StoredBlobsAsync())
        {
            // An export being written (another test's) is an empty blob until its blocks commit.
            if (name.EndsWith(".zip", StringComparison.Ordinal) && content.Length > 0)
            {
                using var zip = new ZipArchive(new MemoryStream(content), ZipArchiveMode.Read);
                foreach (var entry in zip.Entries)
                {
                    using var reader = new StreamReader(entry.Open());
                    text.Append(await reader.ReadToEndAsync()).Append('\n');
                }
            }
            else
            {
                text.Append(Encoding.UTF8.GetString(content)).Append('\n');
            }
        }

        return text.ToString();
    }

    /// <summary>Every blob of every container, with its content; one deleted since the listing (another test's expired export) is left out.</summary>
    public static async IAsyncEnumerable<(string Container, string Name, byte[] Content)> StoredBlobsAsync(this TestApp app)
    {
        await foreach (var container in app.Storage.Blobs.GetBlobContainersAsync())
        {
            var client = app.Storage.Container(container.Name);
            await foreach (var blob in client.GetBlobsAsync())
            {
                byte[] content;
                try
                {
                    content = (await client.GetBlobClient(blob.Name).DownloadContentAsync()).Value.Content.ToArray();
                }
                catch (Azure.RequestFailedException ex) when (ex.Status == 404)
                {
                    continue;
                }

                yield return (container.Name, blob.Name, content);
            }
        }
    }
}

public sealed record ExportArchiveFiles(long Size, IReadOnlyDictionary<string, byte[]> Files)
{
    public JsonElement Manifest => JsonDocument.Parse(Files[ExportArchive.ManifestName]).RootElement;

    public string AllText => string.Concat(Files.Values.Select(Encoding.UTF8.GetString));

    public List<JsonElement> Rows(string file) =>
        [.. Encoding.UTF8.GetString(Files[file]).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonDocument.Parse(line).RootElement)];

    public static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));
}

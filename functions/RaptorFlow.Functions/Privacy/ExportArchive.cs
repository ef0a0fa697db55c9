using System.Buffers;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using Azure.Data.Tables;
using RaptorFlow.Functions.Events;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Privacy;

/// <summary>One file of an archive as its manifest lists it.</summary>
public sealed record ExportManifestFile(string Name, long Count, long Bytes, string Sha256);

/// <summary><c>manifest.json</c>, the archive's last entry.</summary>
public sealed record ExportManifest(int SchemaVersion, string ExportId, string Scope, string OwnerId, DateTimeOffset CreatedAt, IReadOnlyList<ExportManifestFile> Files);

/// <summary>
/// Writes an export as a zip of NDJSON files and a manifest, straight into <c>output</c>: rows are
/// read a page at a time and written as they arrive, so memory does not grow with the org.
/// </summary>
public static class ExportArchive
{
    public const string ManifestName = "manifest.json";

    // Column names that may hold a credential, in any table; never exported, whatever the table adds later.
    private static readonly string[] Withheld = ["hash", "secret", "token", "password"];

    private static readonly string[] TableMechanics = ["PartitionKey", "odata.etag", "Timestamp"];

    /// <param name="progress">Told the running count of rows written, every <see cref="ProgressEvery"/> rows.</param>
    public static async Task<ExportManifest> WriteAsync(
        Stream output, StorageAccount storage, ExportRow export, IReadOnlyList<ExportSection> sections,
        Func<long, Task> progress, CancellationToken cancellationToken)
    {
        var files = new List<ExportManifestFile>(sections.Count);
        var total = 0L;
        using (var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var section in sections)
            {
                var entry = zip.CreateEntry(section.File, CompressionLevel.Optimal);
                await using var stream = new DigestStream(await entry.OpenAsync(cancellationToken));

                // Rows are serialized into a buffer and handed on in large writes, never flushed one by
                // one: a flush reaches the blob's write stream, which uploads a block per flush, and a
                // blob holds at most 50,000 blocks.
                var pending = new ArrayBufferWriter<byte>(PendingBytes);
                await using var writer = new Utf8JsonWriter(pending);
                var count = 0L;
                await foreach (var row in section.Rows(storage, cancellationToken))
                {
                    if (row.RowKey is { } key && key.StartsWith(OutboxKeys.RowPrefix, StringComparison.Ordinal))
                    {
                        // An event not yet relayed, beside the change it reports; the change itself is exported.
                        continue;
                    }

                    WriteRow(writer, row, section.PartitionAs);
                    writer.Flush();
                    writer.Reset();
                    pending.Write("\n"u8);
                    if (pending.WrittenCount >= PendingBytes)
                    {
                        await stream.WriteAsync(pending.WrittenMemory, cancellationToken);
                        pending.ResetWrittenCount();
                    }

                    count++;
                    if (++total % ProgressEvery == 0)
                    {
                        await progress(total);
                    }
                }

                await stream.WriteAsync(pending.WrittenMemory, cancellationToken);
                files.Add(new ExportManifestFile(section.File, count, stream.Length, stream.Sha256()));
            }

            var manifest = new ExportManifest(ExportContents.SchemaVersion, export.ExportId, export.Scope, export.OwnerId, export.CreatedAt, files);
            var manifestEntry = zip.CreateEntry(ManifestName, CompressionLevel.Optimal);
            await using (var manifestStream = await manifestEntry.OpenAsync(cancellationToken))
            {
                await JsonSerializer.SerializeAsync(manifestStream, manifest, PrivacyJson.Options, cancellationToken);
            }

            await progress(total);
            return manifest;
        }
    }

    public const int ProgressEvery = 1000;

    private const int PendingBytes = 64 * 1024;

    /// <summary>Whether a column is left out of every export (credentials and storage mechanics).</summary>
    public static bool IsWithheld(string column) => TableMechanics.Contains(column, StringComparer.Ordinal) || IsCredential(column);

    /// <summary>Whether a column's name says it may hold a credential or its hash.</summary>
    public static bool IsCredential(string column) => Withheld.Any(w => column.Contains(w, StringComparison.OrdinalIgnoreCase));

    private static void WriteRow(Utf8JsonWriter writer, TableEntity row, string? partitionAs)
    {
        writer.WriteStartObject();
        if (partitionAs is not null)
        {
            writer.WriteString(partitionAs, row.PartitionKey);
        }

        foreach (var (column, value) in row.OrderBy(c => c.Key == "RowKey" ? 0 : 1).ThenBy(c => c.Key, StringComparer.Ordinal))
        {
            if (IsWithheld(column) || column.EndsWith("@odata.type", StringComparison.Ordinal))
            {
                continue;
            }

            writer.WritePropertyName(JsonNamingPolicy.CamelCase.ConvertName(column));
            switch (value)
            {
                case null: writer.WriteNullValue(); break;
                case string s: writer.WriteStringValue(s); break;
                case bool b: writer.WriteBooleanValue(b); break;
                case int i: writer.WriteNumberValue(i); break;
                case long l: writer.WriteNumberValue(l); break;
                case double d: writer.WriteNumberValue(d); break;
                case DateTimeOffset at: writer.WriteStringValue(at.ToUniversalTime()); break;
                case DateTime at: writer.WriteStringValue(new DateTimeOffset(at.ToUniversalTime(), TimeSpan.Zero)); break;
                case Guid g: writer.WriteStringValue(g); break;
                case byte[] bytes: writer.WriteBase64StringValue(bytes); break;
                case BinaryData data: writer.WriteBase64StringValue(data.ToMemory().Span); break;
                default: writer.WriteStringValue(value.ToString()); break;
            }
        }

        writer.WriteEndObject();
    }

    /// <summary>A write-only pass-through that hashes and counts what goes by.</summary>
    private sealed class DigestStream(Stream inner) : Stream
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private long _length;
        private string? _sha256;

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => _length;
        public override long Position { get => _length; set => throw new NotSupportedException(); }

        public string Sha256() => _sha256 ??= Convert.ToHexStringLower(_hash.GetHashAndReset());

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            _hash.AppendData(buffer);
            _length += buffer.Length;
            inner.Write(buffer);
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            _hash.AppendData(buffer.Span);
            _length += buffer.Length;
            await inner.WriteAsync(buffer, cancellationToken);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush() => inner.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
                _hash.Dispose();
            }

            base.Dispose(disposing);
        }

        public override async ValueTask DisposeAsync()
        {
            await inner.DisposeAsync();
            _hash.Dispose();
            await base.DisposeAsync();
        }
    }
}

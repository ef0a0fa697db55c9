using System.Text.Json;

namespace RaptorFlow.Functions.Privacy;

/// <summary>The export queue's messages and the archive's manifest.</summary>
public static class PrivacyJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web) { TypeInfoResolver = ApiJsonContext.WithReflectionFallback };
}

/// <summary>The queue <see cref="WriteExport"/> reads (<c>Privacy:ExportQueue</c>, default <c>write-export</c>).</summary>
public sealed record ExportQueue(string Name)
{
    public const string Default = "write-export";
}

/// <summary>
/// One export to write. A user's export carries the address and name they signed in with, which the
/// archive's profile holds and which finds invitations sent to them; nothing else stores them for it.
/// </summary>
public sealed record ExportMessage(string Partition, string ExportId, string? Email = null, string? Name = null);

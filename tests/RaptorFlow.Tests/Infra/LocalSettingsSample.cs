using System.Text.Json.Nodes;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Infra;

/// <summary>local.settings.sample.json: what a developer copies to local.settings.json for <c>func start</c>.</summary>
public sealed class LocalSettingsSample
{
    private LocalSettingsSample(JsonObject root) => Root = root;

    public static string FilePath { get; } = RepositoryRoot.Combine("local.settings.sample.json");

    public JsonObject Root { get; }

    public IReadOnlyDictionary<string, string> Values =>
        Root[nameof(Values)]!.AsObject().ToDictionary(kv => kv.Key, kv => (string)kv.Value!, StringComparer.Ordinal);

    public static LocalSettingsSample Load() =>
        new(JsonNode.Parse(File.ReadAllText(FilePath))!.AsObject());
}

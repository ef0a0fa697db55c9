using RaptorFlow.Tests.Fixtures;
using YamlDotNet.RepresentationModel;

namespace RaptorFlow.Tests.Infra;

/// <summary>azure.yaml at the repository root, parsed with YamlDotNet.</summary>
public sealed class AzureYaml
{
    private AzureYaml(string firstLine, YamlMappingNode root)
    {
        FirstLine = firstLine;
        Root = root;
    }

    public static string FilePath { get; } = RepositoryRoot.Combine("azure.yaml");

    public string FirstLine { get; }
    public YamlMappingNode Root { get; }

    public YamlMappingNode Services => (YamlMappingNode)Root["services"];
    public IEnumerable<string> ServiceNames => Services.Children.Keys.Select(k => ((YamlScalarNode)k).Value!);

    public static AzureYaml Load()
    {
        var text = File.ReadAllText(FilePath);
        var stream = new YamlStream();
        using (var reader = new StringReader(text))
        {
            stream.Load(reader);
        }

        return new AzureYaml(text.Split('\n')[0].TrimEnd('\r'), (YamlMappingNode)Assert.Single(stream.Documents).RootNode);
    }

    public static string Scalar(YamlNode node, string key) =>
        node is YamlMappingNode map && map.Children.TryGetValue(new YamlScalarNode(key), out var value) && value is YamlScalarNode scalar
            ? scalar.Value ?? ""
            : throw new Xunit.Sdk.XunitException($"azure.yaml: '{key}' is missing or not a scalar");
}

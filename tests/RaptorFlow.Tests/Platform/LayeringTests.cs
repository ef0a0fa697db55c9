using System.Text.RegularExpressions;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Platform;

/// <summary>
/// Platform and Hosting are the base layers: features use them, never the reverse, and Hosting
/// uses Platform, never the reverse. The lists that name every feature's types (the JSON context,
/// the generated settings) are composed next to Program.cs, out of the base layers' reach too.
/// </summary>
public sealed partial class LayeringTests
{
    private static readonly string AppFolder = RepositoryRoot.Combine("functions", "RaptorFlow.Functions");

    [Fact]
    public void No_platform_or_hosting_file_imports_a_feature_namespace()
    {
        var features = Features();
        Assert.Contains("Organizations", features);
        Assert.Contains("ApiKeys", features);

        var imports = Layer("Platform").Concat(Layer("Hosting"))
            .SelectMany(file => NamespacesUsed(file.Code).Where(features.Contains).Select(ns => $"{file.Path}: RaptorFlow.Functions.{ns}"))
            .ToList();
        Assert.True(imports.Count == 0, "Platform and Hosting must not import features:\n" + string.Join("\n", imports));
    }

    [Fact]
    public void No_platform_file_imports_hosting()
    {
        var imports = Layer("Platform")
            .Where(file => NamespacesUsed(file.Code).Contains("Hosting"))
            .Select(file => file.Path)
            .ToList();
        Assert.True(imports.Count == 0, "Hosting uses Platform, not the reverse:\n" + string.Join("\n", imports));
    }

    [Fact]
    public void No_platform_or_hosting_file_names_a_type_composed_next_to_program()
    {
        var composed = Directory.GetFiles(AppFolder, "*.cs").Select(Path.GetFileNameWithoutExtension).OfType<string>().ToList();
        Assert.Contains("ApiJsonContext", composed);
        Assert.Contains("GeneratedSettings", composed);

        var named = Layer("Platform").Concat(Layer("Hosting"))
            .SelectMany(file => composed.Where(type => Regex.IsMatch(file.Code, $@"\b{type}\b")).Select(type => $"{file.Path}: {type}"))
            .ToList();
        Assert.True(named.Count == 0, "Platform and Hosting must be handed the app's lists, not reach for them:\n" + string.Join("\n", named));
    }

    /// <summary>Every other top-level folder of the app holding C# is a feature.</summary>
    private static HashSet<string> Features() =>
        Directory.GetDirectories(AppFolder)
            .Select(Path.GetFileName).OfType<string>()
            .Where(name => name is not ("Platform" or "Hosting" or "bin" or "obj"))
            .Where(name => Directory.EnumerateFiles(Path.Combine(AppFolder, name), "*.cs", SearchOption.AllDirectories).Any())
            .ToHashSet(StringComparer.Ordinal);

    private static IEnumerable<(string Path, string Code)> Layer(string folder)
    {
        var files = Directory.GetFiles(Path.Combine(AppFolder, folder), "*.cs", SearchOption.AllDirectories);
        Assert.NotEmpty(files);
        return files.Select(f => (Path.GetRelativePath(AppFolder, f), Comment().Replace(File.ReadAllText(f), "")));
    }

    /// <summary>The first segment after <c>RaptorFlow.Functions.</c> of every namespace the code names: usings, aliases and qualified names alike.</summary>
    private static IEnumerable<string> NamespacesUsed(string code) =>
        QualifiedName().Matches(code).Select(m => m.Groups[1].Value).Distinct(StringComparer.Ordinal);

    [GeneratedRegex(@"\bRaptorFlow\.Functions\.(\w+)")]
    private static partial Regex QualifiedName();

    [GeneratedRegex(@"//.*$", RegexOptions.Multiline)]
    private static partial Regex Comment();
}

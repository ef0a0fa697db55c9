using System.Text.Json.Nodes;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Infra;

/// <summary>infra/ compiled once per test class: <c>bicep build</c> of main.bicep and <c>bicep lint</c> of every file.</summary>
public sealed class CompiledInfra : IAsyncLifetime
{
    private readonly string _outputDirectory = Directory.CreateTempSubdirectory("raptorflow-infra-").FullName;

    public static string InfraDirectory { get; } = RepositoryRoot.Combine("infra");

    public BicepRun Build { get; private set; } = null!;
    public IReadOnlyDictionary<string, BicepRun> Lint { get; private set; } = null!;
    public ArmTemplate Template { get; private set; } = null!;
    public JsonObject Parameters { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Build = await BicepCli.RunAsync(InfraDirectory, "build", "main.bicep", "--outdir", _outputDirectory);
        Assert.True(Build.ExitCode == 0, $"bicep build failed:\n{Build.Diagnostics}");
        Template = new ArmTemplate(JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(_outputDirectory, "main.json")))!.AsObject());

        var lint = new Dictionary<string, BicepRun>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(InfraDirectory, "*.bicep", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            lint[Path.GetRelativePath(InfraDirectory, file)] = await BicepCli.RunAsync(InfraDirectory, "lint", file);
        }

        Lint = lint;
        Parameters = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(InfraDirectory, "main.parameters.json")))!.AsObject();
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_outputDirectory, recursive: true);
        return Task.CompletedTask;
    }
}

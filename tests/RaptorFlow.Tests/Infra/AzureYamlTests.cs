using RaptorFlow.Tests.Fixtures;
using YamlDotNet.RepresentationModel;

namespace RaptorFlow.Tests.Infra;

public sealed class AzureYamlTests
{
    private readonly AzureYaml _azureYaml = AzureYaml.Load();

    [Fact]
    public void Starts_with_the_azd_schema_reference()
    {
        Assert.StartsWith("# yaml-language-server: $schema=", _azureYaml.FirstLine, StringComparison.Ordinal);
        Assert.EndsWith("/schemas/v1.0/azure.yaml.json", _azureYaml.FirstLine, StringComparison.Ordinal);
    }

    [Fact]
    public void Names_the_function_app_service_in_the_functions_project()
    {
        var service = _azureYaml.Services["api"];
        Assert.Equal("dotnet", AzureYaml.Scalar(service, "language"));
        Assert.Equal("function", AzureYaml.Scalar(service, "host"));

        var project = Path.GetFullPath(Path.Combine(RepositoryRoot.Path, AzureYaml.Scalar(service, "project")));
        Assert.Equal(RepositoryRoot.Combine("functions", "RaptorFlow.Functions"), project.TrimEnd(Path.DirectorySeparatorChar));
        Assert.True(File.Exists(Path.Combine(project, "RaptorFlow.Functions.csproj")), $"{project} holds no RaptorFlow.Functions.csproj");
    }

    [Fact]
    public void Names_the_web_console_service_hosted_on_static_web_apps_from_its_built_files()
    {
        Assert.Equal(["api", "web"], _azureYaml.ServiceNames.Order(StringComparer.Ordinal));
        var service = _azureYaml.Services["web"];
        Assert.Equal("staticwebapp", AzureYaml.Scalar(service, "host"));
        Assert.Equal("dist", AzureYaml.Scalar(service, "dist"));

        var project = Path.GetFullPath(Path.Combine(RepositoryRoot.Path, AzureYaml.Scalar(service, "project")));
        Assert.Equal(RepositoryRoot.Combine("web"), project.TrimEnd(Path.DirectorySeparatorChar));
        Assert.Contains("\"build\":", File.ReadAllText(Path.Combine(project, "package.json")), StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(project, "package-lock.json")), "web/ has no package-lock.json");
    }

    [Fact]
    public void Points_azd_at_the_bicep_in_infra()
    {
        var infra = (YamlMappingNode)_azureYaml.Root["infra"];
        Assert.Equal("bicep", AzureYaml.Scalar(infra, "provider"));
        var module = AzureYaml.Scalar(infra, "module");
        Assert.True(File.Exists(RepositoryRoot.Combine(AzureYaml.Scalar(infra, "path"), module + ".bicep")));
        Assert.True(File.Exists(RepositoryRoot.Combine(AzureYaml.Scalar(infra, "path"), module + ".parameters.json")));
    }

    [Fact]
    public void Every_hook_script_exists_and_the_posix_ones_are_executable()
    {
        var hooks = (YamlMappingNode)_azureYaml.Root["hooks"];
        var runs = hooks.Children.Values.OfType<YamlMappingNode>()
            .SelectMany(hook => hook.Children.TryGetValue(new YamlScalarNode("run"), out _)
                ? [("any", hook)]
                : hook.Children.Select(platform => (((YamlScalarNode)platform.Key).Value!, (YamlMappingNode)platform.Value)))
            .ToList();
        Assert.NotEmpty(runs);
        foreach (var (platform, hook) in runs)
        {
            var script = RepositoryRoot.Combine(AzureYaml.Scalar(hook, "run"));
            Assert.True(File.Exists(script), $"hook script {script} does not exist");
            if (platform == "posix" && !OperatingSystem.IsWindows())
            {
                Assert.True(File.GetUnixFileMode(script).HasFlag(UnixFileMode.UserExecute), $"{script} is not executable");
            }
        }
    }
}

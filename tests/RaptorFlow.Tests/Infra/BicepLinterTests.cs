namespace RaptorFlow.Tests.Infra;

/// <summary>The linter rules that keep infra/ safe are errors, and the compiler really enforces them.</summary>
public sealed class BicepLinterTests
{
    [Fact]
    public async Task Hard_coded_location_unused_parameter_and_secret_output_fail_the_lint()
    {
        var directory = Directory.CreateTempSubdirectory("raptorflow-lint-").FullName;
        try
        {
            File.Copy(Path.Combine(CompiledInfra.InfraDirectory, "bicepconfig.json"), Path.Combine(directory, "bicepconfig.json"));
            await File.WriteAllTextAsync(Path.Combine(directory, "bad.bicep"), """
                param unused string

                resource account 'Microsoft.Storage/storageAccounts@2025-01-01' = {
                  name: 'stbad'
                  location: 'westeurope'
                  kind: 'StorageV2'
                  sku: { name: 'Standard_LRS' }
                }

                output connection string = 'DefaultEndpointsProtocol=https;AccountKey=${account.listKeys().keys[0].value}'
                """);

            var run = await BicepCli.RunAsync(directory, "lint", "bad.bicep");

            Assert.NotEqual(0, run.ExitCode);
            Assert.Contains("Error no-hardcoded-location", run.Diagnostics, StringComparison.Ordinal);
            Assert.Contains("Error no-unused-params", run.Diagnostics, StringComparison.Ordinal);
            Assert.Contains("Error outputs-should-not-contain-secrets", run.Diagnostics, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Theory]
    [InlineData("outputs-should-not-contain-secrets")]
    [InlineData("no-hardcoded-location")]
    [InlineData("no-hardcoded-env-urls")]
    [InlineData("no-unused-params")]
    [InlineData("no-unused-vars")]
    [InlineData("secure-parameter-default")]
    [InlineData("use-secure-value-for-secure-inputs")]
    [InlineData("protect-commandtoexecute-secrets")]
    public void Bicepconfig_makes_the_rule_an_error(string rule)
    {
        var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(CompiledInfra.InfraDirectory, "bicepconfig.json")))!;
        Assert.Equal("error", (string?)config["analyzers"]!["core"]!["rules"]![rule]!["level"]);
    }

    [Fact]
    public void Recent_api_versions_is_a_warning_so_an_ageing_version_alone_never_fails_a_build()
    {
        // An error here made every build fail on the day a pinned version turned 730 days old.
        var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(CompiledInfra.InfraDirectory, "bicepconfig.json")))!;
        Assert.Equal("warning", (string?)config["analyzers"]!["core"]!["rules"]!["use-recent-api-versions"]!["level"]);
    }
}

namespace RaptorFlow.Tests.Infra;

/// <summary>
/// infra/ still builds and lints when the linter's clock is two years ahead: an API version
/// growing old must never fail `azd provision` or CI by itself (use-recent-api-versions is a warning).
/// </summary>
public sealed class FutureClockTests
{
    private const int TwoYears = 730;

    [Fact]
    public async Task Two_years_from_now_main_builds_and_every_bicep_file_lints_without_an_error()
    {
        var output = Directory.CreateTempSubdirectory("raptorflow-future-").FullName;
        try
        {
            var build = await BicepCli.RunAsync(CompiledInfra.InfraDirectory, TwoYears, "build", "main.bicep", "--outdir", output);
            Assert.True(build.ExitCode == 0, $"bicep build two years ahead failed:\n{build.Diagnostics}");
            Assert.DoesNotContain(": Error ", build.Diagnostics, StringComparison.Ordinal);

            foreach (var file in Directory.EnumerateFiles(CompiledInfra.InfraDirectory, "*.bicep", SearchOption.AllDirectories))
            {
                var lint = await BicepCli.RunAsync(CompiledInfra.InfraDirectory, TwoYears, "lint", file);
                Assert.True(lint.ExitCode == 0, $"bicep lint {file} two years ahead failed:\n{lint.Diagnostics}");
                Assert.DoesNotContain(": Error ", lint.Diagnostics, StringComparison.Ordinal);
            }
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    [Fact]
    public async Task The_linter_really_sees_the_future_clock()
    {
        // Guards the test above: if faketime stopped reaching the compiler, that test would pass
        // vacuously. The same API version passes or fails the rule depending on the fake date.
        var directory = Directory.CreateTempSubdirectory("raptorflow-clock-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(directory, "bicepconfig.json"), """
                { "analyzers": { "core": { "rules": { "use-recent-api-versions": { "level": "error", "maxAllowedAgeInDays": 730 } } } } }
                """);
            await File.WriteAllTextAsync(Path.Combine(directory, "old.bicep"), """
                param location string = resourceGroup().location

                resource account 'Microsoft.Storage/storageAccounts@2025-01-01' = {
                  name: 'stclock'
                  location: location
                  kind: 'StorageV2'
                  sku: { name: 'Standard_LRS' }
                }
                """);

            // Five months after that version shipped it was young; two years from today it is not.
            var young = (int)(new DateTime(2025, 6, 1, 0, 0, 0, DateTimeKind.Utc) - DateTime.UtcNow).TotalDays;
            var then = await BicepCli.RunAsync(directory, young, "lint", "old.bicep");
            var ahead = await BicepCli.RunAsync(directory, TwoYears, "lint", "old.bicep");

            Assert.True(then.ExitCode == 0, then.Diagnostics);
            Assert.NotEqual(0, ahead.ExitCode);
            Assert.Contains("Error use-recent-api-versions", ahead.Diagnostics, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}

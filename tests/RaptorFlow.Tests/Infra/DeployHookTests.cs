using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using RaptorFlow.Tests.Fixtures;
using YamlDotNet.RepresentationModel;

namespace RaptorFlow.Tests.Infra;

/// <summary>
/// The azd hooks: preprovision refuses an azd too old for the parameters; predeploy waits, bounded,
/// until this run's storage role assignments let the package reach its container. The POSIX
/// scripts run here against stub <c>az</c>/<c>azd</c> commands on PATH.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class DeployHookTests
{
    private static readonly string Hooks = RepositoryRoot.Combine("infra", "hooks");

    [Theory]
    [InlineData("preprovision")]
    [InlineData("predeploy")]
    [InlineData("postprovision")]
    public void Azure_yaml_runs_the_hook_with_sh_on_posix_and_pwsh_on_windows(string hook)
    {
        var hooks = (YamlMappingNode)AzureYaml.Load().Root["hooks"];
        var entry = (YamlMappingNode)hooks[hook];
        Assert.Equal("sh", AzureYaml.Scalar(entry["posix"], "shell"));
        Assert.Equal($"./infra/hooks/{hook}.sh", AzureYaml.Scalar(entry["posix"], "run"));
        Assert.Equal("pwsh", AzureYaml.Scalar(entry["windows"], "shell"));
        Assert.Equal($"./infra/hooks/{hook}.ps1", AzureYaml.Scalar(entry["windows"], "run"));
    }

    [Fact]
    public async Task Predeploy_retries_until_the_deployment_container_answers()
    {
        using var stubs = new Stubs(azFailures: 2);
        var run = await stubs.RunAsync("predeploy.sh", ("PREDEPLOY_INTERVAL_SECONDS", "0"));

        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Equal(3, stubs.AzCalls);
        Assert.Contains("storage blob list --account-name stdeploy --container-name app-package-x --auth-mode login", stubs.AzArguments, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Predeploy_gives_up_after_its_bound_and_says_how_to_recover()
    {
        using var stubs = new Stubs(azFailures: int.MaxValue);
        var run = await stubs.RunAsync("predeploy.sh", ("PREDEPLOY_INTERVAL_SECONDS", "0"), ("PREDEPLOY_MAX_ATTEMPTS", "3"));

        Assert.NotEqual(0, run.ExitCode);
        Assert.Equal(3, stubs.AzCalls);
        Assert.Contains("azd deploy", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Predeploy_with_an_az_that_is_not_signed_in_goes_ahead_without_waiting()
    {
        using var stubs = new Stubs(azFailures: int.MaxValue, azSignedIn: false);
        var run = await stubs.RunAsync("predeploy.sh", ("PREDEPLOY_INTERVAL_SECONDS", "0"), ("PREDEPLOY_MAX_ATTEMPTS", "3"));

        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Equal(0, stubs.AzCalls);
        Assert.Contains("az login", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Predeploy_without_the_provisioned_outputs_fails_at_once()
    {
        using var stubs = new Stubs(azFailures: 0);
        var run = await stubs.RunAsync("predeploy.sh", ("AZURE_DEPLOYMENT_CONTAINER_NAME", ""));

        Assert.NotEqual(0, run.ExitCode);
        Assert.Equal(0, stubs.AzCalls);
    }

    [Fact]
    public void Both_predeploy_scripts_wait_at_most_about_ten_minutes_by_default()
    {
        foreach (var script in new[] { "predeploy.sh", "predeploy.ps1" })
        {
            var text = File.ReadAllText(Path.Combine(Hooks, script));
            Assert.Equal((40, 15), (DefaultOf(text, "PREDEPLOY_MAX_ATTEMPTS"), DefaultOf(text, "PREDEPLOY_INTERVAL_SECONDS")));
            Assert.Contains("--auth-mode login", text, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("1.23.3", false)]
    [InlineData("1.9.9", false)]
    [InlineData("0.99.0", false)]
    [InlineData("1.23.4", true)]
    [InlineData("1.24.0", true)]
    [InlineData("1.100.0", true)]
    [InlineData("2.0.0", true)]
    public async Task Preprovision_refuses_an_azd_older_than_1_23_4(string version, bool accepted)
    {
        using var stubs = new Stubs(azFailures: 0, azdVersion: version);
        var run = await stubs.RunAsync("preprovision.sh");

        Assert.True((run.ExitCode == 0) == accepted, $"azd {version}: exit {run.ExitCode}\n{run.Output}");
    }

    [Fact]
    public void Both_preprovision_scripts_and_the_readme_name_the_same_minimum_azd()
    {
        Assert.Contains("minimum=1.23.4", File.ReadAllText(Path.Combine(Hooks, "preprovision.sh")), StringComparison.Ordinal);
        Assert.Contains("[version]'1.23.4'", File.ReadAllText(Path.Combine(Hooks, "preprovision.ps1")), StringComparison.Ordinal);
        Assert.Contains("azd 1.23.4", File.ReadAllText(RepositoryRoot.Combine("README.md")), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("SingleTenant", "https://login.microsoftonline.com/11111111-1111-1111-1111-111111111111")]
    [InlineData("MultiTenant", "https://login.microsoftonline.com/organizations")]
    [InlineData("ExternalId", "https://contoso.ciamlogin.com/22222222-2222-2222-2222-222222222222")]
    public async Task Postprovision_gives_the_console_the_authority_of_the_sign_in_audience(string audience, string authority)
    {
        using var stubs = new Stubs(azFailures: int.MaxValue);
        var config = Path.Combine(Path.GetTempPath(), $"raptorflow-config-{Guid.NewGuid():N}.json");
        try
        {
            var run = await stubs.RunAsync("postprovision.sh",
                ("WEB_CONFIG_PATH", config), ("WEB_API_URL", "https://api.example.test"), ("AUTH_SIGN_IN_AUDIENCE", audience),
                ("WEB_ENTRA_AUTHORITY", "https://login.microsoftonline.com/11111111-1111-1111-1111-111111111111"),
                ("AUTH_EXTERNAL_ID_TENANT_NAME", "contoso"), ("AUTH_EXTERNAL_ID_TENANT_ID", "22222222-2222-2222-2222-222222222222"));

            Assert.True(run.ExitCode == 0, run.Output);
            using var written = System.Text.Json.JsonDocument.Parse(await File.ReadAllTextAsync(config));
            Assert.Equal(authority, written.RootElement.GetProperty("authority").GetString());
        }
        finally
        {
            File.Delete(config);
        }
    }

    [Fact]
    public async Task Postprovision_sets_the_app_registrations_for_multi_tenant_sign_in_when_az_may()
    {
        using var stubs = new Stubs(azFailures: 0);
        var run = await stubs.RunAsync("postprovision.sh",
            ("AUTH_SIGN_IN_AUDIENCE", "MultiTenant"), ("AZURE_AD_CLIENT_ID", "api-app"), ("AZURE_AD_WEB_CLIENT_ID", "spa-app"), ("WEB_URL", "https://console.example.test"));

        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Contains("set for MultiTenant sign-in", run.Output, StringComparison.Ordinal);
        Assert.Contains("rest --method PATCH --uri https://graph.microsoft.com/v1.0/applications(appId='api-app')", stubs.AzArguments, StringComparison.Ordinal);
        Assert.Contains("\"signInAudience\":\"AzureADMultipleOrgs\"", stubs.AzArguments, StringComparison.Ordinal);
        Assert.Contains("\"redirectUris\":[\"https://console.example.test\",\"http://127.0.0.1:5173\"]", stubs.AzArguments, StringComparison.Ordinal);
        Assert.Contains("ad app permission add --id spa-app --api api-app", stubs.AzArguments, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("MultiTenant", "AzureADMultipleOrgs")]
    [InlineData("ExternalId", "External ID tenant")]
    public async Task Postprovision_prints_the_registration_steps_and_succeeds_when_az_may_not_change_the_apps(string audience, string expected)
    {
        using var stubs = new Stubs(azFailures: int.MaxValue);
        var run = await stubs.RunAsync("postprovision.sh",
            ("AUTH_SIGN_IN_AUDIENCE", audience), ("AZURE_AD_CLIENT_ID", "api-app"), ("AUTH_EXTERNAL_ID_TENANT_ID", "22222222-2222-2222-2222-222222222222"));

        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Contains("App registrations were not updated", run.Output, StringComparison.Ordinal);
        Assert.Contains(expected, run.Output, StringComparison.Ordinal);
        Assert.Contains("http://127.0.0.1:5173", run.Output, StringComparison.Ordinal);
    }

    /// <summary>The default a script gives a setting: <c>${NAME:-n}</c> in sh, <c>if ($env:NAME) {…} else { n }</c> in PowerShell.</summary>
    private static int DefaultOf(string script, string name)
    {
        var match = Regex.Match(script, $@"\$\{{{name}:-(\d+)\}}|\$env:{name} \}} else \{{ (\d+) \}}");
        Assert.True(match.Success, $"no default for {name}");
        return int.Parse(match.Groups[1].Success ? match.Groups[1].Value : match.Groups[2].Value, CultureInfo.InvariantCulture);
    }

    /// <summary>A folder of stub commands put first on PATH: <c>az</c> fails a given number of times, <c>azd</c> reports a version.</summary>
    private sealed class Stubs : IDisposable
    {
        private readonly string _folder = Directory.CreateTempSubdirectory("raptorflow-hook-").FullName;

        public Stubs(int azFailures, string azdVersion = "1.23.4", bool azSignedIn = true)
        {
            Write("az", $"""
                #!/bin/sh
                if [ "$1" = "account" ]; then {(azSignedIn ? "exit 0" : "exit 1")}; fi
                n=$(cat "{_folder}/az.count" 2>/dev/null || echo 0); n=$((n + 1)); echo "$n" > "{_folder}/az.count"
                echo "$*" >> "{_folder}/az.args"
                [ "$n" -gt {Math.Min(azFailures, 1_000_000)} ]
                """);
            Write("azd", $"""
                #!/bin/sh
                echo "azd version {azdVersion} (commit 0123456789abcdef)"
                """);
        }

        public int AzCalls => File.Exists(Path.Combine(_folder, "az.count"))
            ? int.Parse(File.ReadAllText(Path.Combine(_folder, "az.count")).Trim(), CultureInfo.InvariantCulture)
            : 0;

        public string AzArguments => File.Exists(Path.Combine(_folder, "az.args")) ? File.ReadAllText(Path.Combine(_folder, "az.args")) : "";

        public async Task<(int ExitCode, string Output)> RunAsync(string script, params (string Name, string Value)[] environment)
        {
            var start = new ProcessStartInfo("/bin/sh")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = RepositoryRoot.Path,
            };
            start.ArgumentList.Add(Path.Combine(Hooks, script));
            start.Environment["PATH"] = _folder + Path.PathSeparator + Environment.GetEnvironmentVariable("PATH");
            start.Environment["AZURE_STORAGE_ACCOUNT_NAME"] = "stdeploy";
            start.Environment["AZURE_DEPLOYMENT_CONTAINER_NAME"] = "app-package-x";
            foreach (var (name, value) in environment)
            {
                start.Environment[name] = value;
            }

            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEndAsync();
            // A guard against a hook that never ends, not a performance assertion.
            using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            try
            {
                await process.WaitForExitAsync(guard.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"{script} did not end: it has no bound.");
            }

            return (process.ExitCode, await output + await errors);
        }

        public void Dispose() => Directory.Delete(_folder, recursive: true);

        private void Write(string name, string text)
        {
            var path = Path.Combine(_folder, name);
            File.WriteAllText(path, text.Replace("\r\n", "\n", StringComparison.Ordinal) + "\n");
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }
}

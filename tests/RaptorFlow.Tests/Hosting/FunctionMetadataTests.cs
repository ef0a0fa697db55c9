using System.Text.Json;
using Azure.Storage.Queues;
using Microsoft.AspNetCore.Routing;
using RaptorFlow.Functions;
using RaptorFlow.Functions.Hosting;
using RaptorFlow.Functions.Hosting.Standalone;
using RaptorFlow.Functions.Platform.Storage;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Hosting;

/// <summary>host.json and the function folders must match what the code declares.</summary>
public sealed class FunctionMetadataTests
{
    private static readonly string FunctionAppFolder = RepositoryRoot.Combine("functions", "RaptorFlow.Functions", "function-app");

    private static WebApplication BuildUnstartedApp() =>
        Program.Build(["--AzureWebJobsStorage=UseDevelopmentStorage=true", "--urls=http://127.0.0.1:0"]);

    [Fact]
    public async Task Committed_function_json_files_match_the_code_declarations()
    {
        await using var app = BuildUnstartedApp();
        var expected = FunctionMetadata.Generate(app.Services.GetServices<FunctionDeclaration>());

        var committed = Directory.GetDirectories(FunctionAppFolder).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray();
        Assert.True(expected.Keys.SequenceEqual(committed!),
            $"function-app/ holds [{string.Join(", ", committed)}] but the code declares [{string.Join(", ", expected.Keys)}]. " +
            "Regenerate: cd functions/RaptorFlow.Functions && dotnet run -- --write-function-metadata function-app");
        foreach (var (name, json) in expected)
        {
            var onDisk = await File.ReadAllTextAsync(Path.Combine(FunctionAppFolder, name, "function.json"));
            Assert.True(json == onDisk.ReplaceLineEndings("\n"),
                $"function-app/{name}/function.json is out of date. Regenerate: cd functions/RaptorFlow.Functions && dotnet run -- --write-function-metadata function-app");
        }
    }

    [Fact]
    public async Task Every_http_route_is_under_the_api_prefix_the_catch_all_function_forwards()
    {
        await using var app = BuildUnstartedApp();
        var endpoints = ((IEndpointRouteBuilder)app).DataSources.SelectMany(d => d.Endpoints).OfType<RouteEndpoint>().ToList();
        Assert.NotEmpty(endpoints);
        foreach (var endpoint in endpoints)
        {
            var invocation = endpoint.Metadata.GetMetadata<HostInvocationEndpoint>();
            var pattern = endpoint.RoutePattern.RawText!.TrimStart('/');
            if (invocation is not null)
            {
                Assert.Equal(invocation.FunctionName, pattern);
            }
            else
            {
                Assert.StartsWith("api/", pattern, StringComparison.Ordinal);
            }
        }

        using var api = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(FunctionAppFolder, FunctionMetadata.HttpFunctionName, "function.json")));
        var trigger = api.RootElement.GetProperty("bindings")[0];
        Assert.Equal("{*route}", trigger.GetProperty("route").GetString());
        Assert.False(trigger.TryGetProperty("methods", out _), "Every method must reach the app so a wrong one gets a 405 problem.");
    }

    [Fact]
    public async Task Every_declared_queue_function_has_an_invocation_endpoint()
    {
        await using var app = BuildUnstartedApp();
        var routes = ((IEndpointRouteBuilder)app).DataSources.SelectMany(d => d.Endpoints)
            .Select(e => e.Metadata.GetMetadata<HostInvocationEndpoint>()?.FunctionName).OfType<string>().ToHashSet();
        Assert.All(app.Services.GetServices<FunctionDeclaration>(), f => Assert.Contains(f.Name, routes));
    }

    [Fact]
    public void Host_json_declares_the_custom_handler_and_the_queue_rules_the_standalone_triggers_follow()
    {
        using var host = JsonDocument.Parse(File.ReadAllText(RepositoryRoot.Combine("host.json")));
        var root = host.RootElement;
        Assert.Equal("2.0", root.GetProperty("version").GetString());
        var handler = root.GetProperty("customHandler");
        Assert.True(handler.GetProperty("enableForwardingHttpRequest").GetBoolean());
        Assert.Equal("/bin/sh", handler.GetProperty("description").GetProperty("defaultExecutablePath").GetString());
        Assert.Equal("launch.sh", handler.GetProperty("description").GetProperty("arguments")[0].GetString());
        Assert.Equal("Microsoft.Azure.Functions.ExtensionBundle", root.GetProperty("extensionBundle").GetProperty("id").GetString());
        Assert.StartsWith("[4.", root.GetProperty("extensionBundle").GetProperty("version").GetString(), StringComparison.Ordinal);
        Assert.Equal("api", root.GetProperty("extensions").GetProperty("http").GetProperty("routePrefix").GetString());

        var queues = root.GetProperty("extensions").GetProperty("queues");
        var standalone = new StandaloneTriggerSettings();
        Assert.Equal(standalone.MaxDequeueCount, queues.GetProperty("maxDequeueCount").GetInt32());
        Assert.Equal(standalone.VisibilityTimeout, TimeSpan.Parse(queues.GetProperty("visibilityTimeout").GetString()!, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(standalone.MaxPollingInterval, TimeSpan.Parse(queues.GetProperty("maxPollingInterval").GetString()!, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(standalone.BatchSize, queues.GetProperty("batchSize").GetInt32());
        Assert.Equal(standalone.NewBatchThreshold, queues.GetProperty("newBatchThreshold").GetInt32());
        Assert.Equal(QueueMessageEncoding.Base64, StorageAccount.MessageEncoding);
        Assert.Equal("base64", queues.GetProperty("messageEncoding").GetString());
    }
}

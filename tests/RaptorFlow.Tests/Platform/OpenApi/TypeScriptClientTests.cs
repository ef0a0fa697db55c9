using System.Diagnostics;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Platform.OpenApi;

/// <summary>The committed TypeScript client is generated from the document the running app serves.</summary>
public sealed class TypeScriptClientTests(SignedInAppFixture fixture) : IClassFixture<SignedInAppFixture>
{
    private static readonly string Client = RepositoryRoot.Combine("clients", "typescript");

    [Fact]
    public async Task Committed_client_schema_is_what_the_served_document_generates()
    {
        var generator = Path.Combine(Client, "node_modules", "openapi-typescript", "bin", "cli.js");
        Assert.True(File.Exists(generator), "openapi-typescript is not installed: run scripts/bootstrap.sh (npm ci in clients/typescript).");

        var work = Directory.CreateTempSubdirectory("raptorflow-client-");
        try
        {
            var document = Path.Combine(work.FullName, "openapi.json");
            var schema = Path.Combine(work.FullName, "schema.ts");
            await File.WriteAllTextAsync(document, await fixture.App.Client.GetStringAsync(new Uri("/api/openapi/v1.json", UriKind.Relative)));

            var (exit, output) = await RunAsync("node", generator, document, "--output", schema);
            Assert.True(exit == 0, output);

            var committed = await File.ReadAllTextAsync(Path.Combine(Client, "src", "generated", "schema.ts"));
            var fresh = await File.ReadAllTextAsync(schema);
            Assert.True(committed == fresh,
                "clients/typescript/src/generated/schema.ts is stale: run scripts/generate-client.sh and commit the result.\n" + FirstDifference(committed, fresh));
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    private static string FirstDifference(string committed, string fresh)
    {
        var a = committed.Split('\n');
        var b = fresh.Split('\n');
        for (var i = 0; i < Math.Max(a.Length, b.Length); i++)
        {
            var left = i < a.Length ? a[i] : "<end>";
            var right = i < b.Length ? b[i] : "<end>";
            if (left != right)
            {
                return $"line {i + 1}:\n  committed: {left}\n  fresh:     {right}";
            }
        }

        return "";
    }

    private static async Task<(int Exit, string Output)> RunAsync(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Client };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout + await stderr);
    }
}

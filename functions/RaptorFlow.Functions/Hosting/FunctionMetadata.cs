using System.Text.Json;
using System.Text.Json.Nodes;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Hosting;

/// <summary>
/// The Functions metadata (<c>&lt;FunctionName&gt;/function.json</c>) derived from the code's own
/// declarations: one catch-all HTTP function forwarding every <c>/api/...</c> request, and one
/// function per declared queue or timer trigger. The files are committed under
/// <c>function-app/</c> and copied to the publish root; a test fails when they drift.
/// Regenerate from the project folder with <c>dotnet run -- --write-function-metadata function-app</c>.
/// </summary>
public static class FunctionMetadata
{
    public const string HttpFunctionName = "Api";
    public const string WriteArgument = "--write-function-metadata";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static SortedDictionary<string, string> Generate(IEnumerable<FunctionDeclaration> functions)
    {
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            [HttpFunctionName] = Serialize(new JsonArray
            {
                new JsonObject
                {
                    ["type"] = "httpTrigger",
                    ["direction"] = "in",
                    ["name"] = "req",
                    ["authLevel"] = "anonymous",
                    ["route"] = "{*route}",
                },
                new JsonObject { ["type"] = "http", ["direction"] = "out", ["name"] = "res" },
            }),
        };

        foreach (var function in functions.OrderBy(f => f.Name, StringComparer.Ordinal))
        {
            var trigger = function.Kind == FunctionTriggerKind.Queue
                ? new JsonObject
                {
                    ["type"] = "queueTrigger",
                    ["direction"] = "in",
                    ["name"] = function.BindingName,
                    ["queueName"] = function.QueueName,
                    ["connection"] = StorageAccount.SettingName,
                }
                : new JsonObject
                {
                    ["type"] = "timerTrigger",
                    ["direction"] = "in",
                    ["name"] = function.BindingName,
                    ["schedule"] = function.Schedule,
                    ["runOnStartup"] = function.RunOnStartup,
                    ["useMonitor"] = true,
                };
            files[function.Name] = Serialize(new JsonArray { trigger });
        }

        return files;
    }

    public static void Write(string directory, IEnumerable<FunctionDeclaration> functions)
    {
        foreach (var (name, json) in Generate(functions))
        {
            var folder = Path.Combine(directory, name);
            Directory.CreateDirectory(folder);
            File.WriteAllText(Path.Combine(folder, "function.json"), json);
        }
    }

    private static string Serialize(JsonArray bindings) =>
        new JsonObject { ["bindings"] = bindings }.ToJsonString(Indented).ReplaceLineEndings("\n") + "\n";
}

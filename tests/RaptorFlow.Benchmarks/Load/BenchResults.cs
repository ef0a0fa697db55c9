using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace RaptorFlow.Benchmarks.Load;

/// <summary>
/// <c>bench-results.json</c> at the repository root: one entry per scenario, each stamped with when
/// and on what it ran; running one scenario replaces only its own entry.
/// </summary>
public sealed class BenchResults(string path)
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public string Path { get; } = path;

    public void Record(string scenario, JsonObject result, string command)
    {
        var root = Load();
        var scenarios = root["scenarios"] as JsonObject ?? [];
        root["scenarios"] = scenarios;
        result["measuredAt"] = DateTimeOffset.UtcNow.ToString("O");
        result["machine"] = Machine.Describe();
        result["command"] = command;
        scenarios[scenario] = result;
        root["updatedAt"] = DateTimeOffset.UtcNow.ToString("O");
        File.WriteAllText(Path, root.ToJsonString(Indented) + "\n");
    }

    private JsonObject Load()
    {
        try
        {
            return File.Exists(Path) ? JsonNode.Parse(File.ReadAllText(Path)) as JsonObject ?? [] : [];
        }
        catch (JsonException)
        {
            return [];
        }
    }
}

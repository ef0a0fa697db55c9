using System.Text.RegularExpressions;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Platform;

/// <summary>
/// Route handlers validate, call their feature's store and map the outcome to a result; storage,
/// retries and ETags live in the stores. A handler that grows past a screen has taken a store's work.
/// </summary>
public sealed partial class HandlerShapeTests
{
    private const int MaxHandlerLines = 40;

    private static readonly string AppFolder = RepositoryRoot.Combine("functions", "RaptorFlow.Functions");

    [Fact]
    public void No_route_handler_is_longer_than_forty_lines()
    {
        var handlers = ApiFiles().SelectMany(file => Handlers(file.Code).Select(name => (file.Path, file.Code, Name: name))).ToList();
        Assert.True(handlers.Count > 40, $"Expected the route tables to name many handlers; found {handlers.Count}.");

        var tooLong = handlers
            .Select(h => (h.Path, h.Name, Lines: LinesOf(h.Code, h.Name)))
            .Where(h => h.Lines > MaxHandlerLines)
            .Select(h => $"{h.Path}: {h.Name} is {h.Lines} lines")
            .ToList();
        Assert.True(tooLong.Count == 0, $"Handlers over {MaxHandlerLines} lines:\n" + string.Join("\n", tooLong));
    }

    [Fact]
    public void No_route_handler_touches_a_table_client()
    {
        var leaks = ApiFiles()
            .SelectMany(file => Handlers(file.Code).Select(name => (file.Path, Name: name, Body: Body(file.Code, name))))
            .Where(h => TableAccess().IsMatch(h.Body))
            .Select(h => $"{h.Path}: {h.Name}")
            .ToList();
        Assert.True(leaks.Count == 0, "Handlers must go through their feature's store:\n" + string.Join("\n", leaks));
    }

    [Fact]
    public void The_length_count_sees_a_long_handler()
    {
        var code = "    api.MapGet(\"/x\", LongAsync);\n    public static async Task<Ok> LongAsync()\n    {\n"
            + string.Concat(Enumerable.Repeat("        x++;\n", 50)) + "    }\n";
        Assert.Equal(["LongAsync"], Handlers(code));
        Assert.Equal(53, LinesOf(code, "LongAsync"));
    }

    private static IEnumerable<(string Path, string Code)> ApiFiles() =>
        Directory.GetFiles(AppFolder, "*Api.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(f => (Path.GetRelativePath(AppFolder, f), File.ReadAllText(f)));

    private static List<string> Handlers(string code) =>
        [.. RouteHandler().Matches(code).Select(m => m.Groups[1].Value).Distinct(StringComparer.Ordinal)];

    /// <summary>From the declaration line to the closing brace at the declaration's indentation.</summary>
    private static int LinesOf(string code, string name) => Body(code, name).Split('\n').Length;

    private static string Body(string code, string name)
    {
        var lines = code.Split('\n');
        var start = Array.FindIndex(lines, l => Regex.IsMatch(l, $@"\bstatic\b.*\b{name}\("));
        Assert.True(start >= 0, $"No declaration of {name}.");
        var indent = lines[start].Length - lines[start].TrimStart().Length;
        var end = start;
        while (end < lines.Length - 1 && !(lines[end].TrimEnd() == new string(' ', indent) + "}" || (end > start && lines[end].TrimEnd().EndsWith(';') && !lines[start..end].Any(l => l.Trim() == "{"))))
        {
            end++;
        }

        return string.Join('\n', lines[start..(end + 1)]);
    }

    [GeneratedRegex(@"\.Map(?:Get|Post|Put|Patch|Delete)\(\s*""[^""]*""\s*,\s*(\w+)\s*\)")]
    private static partial Regex RouteHandler();

    [GeneratedRegex(@"\bTableClient\b|\bSubmitTransactionAsync\b|\b(?:Add|Update|Upsert|Delete|Get)Entity(?:IfExists)?Async\b|\bQueryAsync<")]
    private static partial Regex TableAccess();
}

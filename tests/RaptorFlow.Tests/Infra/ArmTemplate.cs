using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace RaptorFlow.Tests.Infra;

/// <summary>One resource of the compiled template, with the (nested) template that declares it.</summary>
public sealed record ArmResource(string Module, JsonObject Resource, JsonObject Template)
{
    public string Type => (string)Resource["type"]!;
    public string? Name => (string?)Resource["name"];
    public bool IsExisting => Resource["existing"] is JsonValue value && value.GetValue<bool>();
    public JsonObject Properties => Resource["properties"]?.AsObject() ?? [];

    public override string ToString() => $"{Module}: {Type} {Name}";
}

/// <summary>
/// The ARM JSON that <c>bicep build</c> makes of infra/main.bicep, flattened across modules (each
/// module is a nested <c>Microsoft.Resources/deployments</c> with its own template), plus just
/// enough expression reading to follow <c>variables('…')</c> to the literal values behind them.
/// </summary>
public sealed partial class ArmTemplate
{
    public ArmTemplate(JsonObject root)
    {
        Root = root;
        var resources = new List<ArmResource>();
        Collect("main", root, resources);
        Resources = resources;
    }

    public JsonObject Root { get; }
    public IReadOnlyList<ArmResource> Resources { get; }

    public IEnumerable<ArmResource> OfType(string type) =>
        Resources.Where(r => string.Equals(r.Type, type, StringComparison.OrdinalIgnoreCase) && !r.IsExisting);

    public ArmResource One(string type)
    {
        var matches = OfType(type).ToList();
        Assert.True(matches.Count == 1, $"Expected one {type}, found {matches.Count}: {string.Join(", ", matches)}");
        return matches[0];
    }

    /// <summary>The module deployment named <paramref name="deploymentName"/> in main.bicep.</summary>
    public ArmResource Module(string deploymentName) =>
        OfType("Microsoft.Resources/deployments").Single(r => r.Module == "main" && r.Name == deploymentName);

    /// <summary>The value main.bicep passes to a module parameter, as written in the template.</summary>
    public JsonNode? ModuleParameter(string deploymentName, string parameter) =>
        Module(deploymentName).Properties["parameters"]?[parameter]?["value"];

    /// <summary>Every literal string an expression reaches through <c>variables('…')</c>, including itself.</summary>
    public static IEnumerable<string> Literals(JsonNode? node, JsonObject template)
    {
        switch (node)
        {
            case JsonArray array:
                foreach (var item in array)
                {
                    foreach (var literal in Literals(item, template))
                    {
                        yield return literal;
                    }
                }

                break;
            case JsonObject obj:
                foreach (var (_, value) in obj)
                {
                    foreach (var literal in Literals(value, template))
                    {
                        yield return literal;
                    }
                }

                break;
            case JsonValue value when value.TryGetValue<string>(out var text):
                yield return text;
                foreach (Match match in VariableReference().Matches(text))
                {
                    var target = template["variables"]?[match.Groups["name"].Value];
                    if (match.Groups["property"].Success)
                    {
                        target = target?[match.Groups["property"].Value];
                    }

                    foreach (var literal in Literals(target, template))
                    {
                        yield return literal;
                    }
                }

                break;
        }
    }

    /// <summary>Role definition ids (GUIDs) a role assignment grants, following variables and copy loops.</summary>
    public static IReadOnlySet<string> RoleIds(ArmResource assignment) =>
        Literals(assignment.Properties["roleDefinitionId"], assignment.Template)
            .SelectMany(text => Guid().Matches(text).Select(m => m.Value.ToLowerInvariant()))
            .ToHashSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>Every string anywhere in the compiled template, for "this never appears" checks.</summary>
    public IEnumerable<string> AllStrings() => Strings(Root);

    private static IEnumerable<string> Strings(JsonNode? node) => node switch
    {
        JsonArray array => array.SelectMany(Strings),
        JsonObject obj => obj.SelectMany(kv => Strings(kv.Value).Prepend(kv.Key)),
        JsonValue value when value.TryGetValue<string>(out var text) => [text],
        _ => [],
    };

    private static void Collect(string module, JsonObject template, List<ArmResource> into)
    {
        // languageVersion 2.0 templates key resources by symbolic name; 1.0 templates list them.
        var resources = template["resources"] switch
        {
            JsonArray array => array.Select(r => r!.AsObject()),
            JsonObject obj => obj.Select(kv => kv.Value!.AsObject()),
            _ => [],
        };
        foreach (var resource in resources)
        {
            var entry = new ArmResource(module, resource, template);
            into.Add(entry);
            if (entry.Type == "Microsoft.Resources/deployments" && entry.Properties["template"] is JsonObject nested)
            {
                Collect(entry.Name ?? module, nested, into);
            }
        }
    }

    [GeneratedRegex(@"variables\('(?<name>[^']+)'\)(?:\.(?<property>\w+))?")]
    private static partial Regex VariableReference();

    [GeneratedRegex(@"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")]
    private static partial Regex Guid();
}

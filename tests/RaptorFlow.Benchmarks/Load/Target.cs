using System.Globalization;
using System.Text.Json.Nodes;

namespace RaptorFlow.Benchmarks.Load;

/// <summary>A measured ratio (or absolute figure) against its target, printed and recorded the same way.</summary>
public sealed record Target(string Name, double Value, string Comparison, double Goal, string Unit = "×")
{
    public bool Met => Comparison switch
    {
        ">=" => Value >= Goal,
        "<=" => Value <= Goal,
        "<" => Value < Goal,
        _ => throw new InvalidOperationException(Comparison),
    };

    public static Target AtLeast(string name, double value, double goal) => new(name, value, ">=", goal);

    public static Target AtMost(string name, double value, double goal) => new(name, value, "<=", goal);

    public JsonObject ToJson() => new()
    {
        ["value"] = Math.Round(Value, 3),
        ["target"] = $"{Symbol} {Goal.ToString(CultureInfo.InvariantCulture)}{Unit}",
        ["met"] = Met,
    };

    public JsonObject Print()
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  => {Name}: {Value:F2}{Unit} (target {Symbol} {Goal}{Unit}) {(Met ? "MET" : "MISSED")}"));
        return ToJson();
    }

    private string Symbol => Comparison switch { ">=" => "≥", "<=" => "≤", _ => Comparison };
}

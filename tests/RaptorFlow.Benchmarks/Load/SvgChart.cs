using System.Globalization;
using System.Net;
using System.Text;

namespace RaptorFlow.Benchmarks.Load;

/// <summary>
/// A line chart as a standalone SVG, next to <c>bench-results.json</c>: one line per series (an instance
/// count, the app against its baseline), the goal as a shaded band, axes with round ticks. No package:
/// the chart is a few dozen elements, and the driver must run wherever the app builds.
/// </summary>
public static class SvgChart
{
    private const int Width = 640;
    private const int Height = 360;
    private const int Left = 64;
    private const int Right = 150;
    private const int Top = 36;
    private const int Bottom = 48;
    private static readonly string[] Colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];

    public sealed record Line(string Name, IReadOnlyList<(double X, double Y)> Points);

    /// <summary>What to draw; <paramref name="Goal"/> is a band of y values, drawn under the lines.</summary>
    public sealed record Spec(string Title, string XLabel, string YLabel, IReadOnlyList<Line> Lines, (double Low, double High)? Goal, bool LogX = false, string GoalLabel = "goal");

    /// <summary>Writes <paramref name="fileName"/> in <paramref name="folder"/> unless the run saves nothing (<c>--no-save</c>); returns the file name, for bench-results.json.</summary>
    public static string? WriteIf(bool save, string folder, string fileName, Spec spec)
    {
        if (!save)
        {
            return null;
        }

        File.WriteAllText(Path.Combine(folder, fileName), Render(spec));
        return fileName;
    }

    public static string Render(Spec spec)
    {
        var points = spec.Lines.SelectMany(l => l.Points).Where(p => double.IsFinite(p.Y) && p.X > 0).ToList();
        var (xMin, xMax) = points.Count == 0 ? (1.0, 10.0) : (points.Min(p => p.X), points.Max(p => p.X));
        if (xMax <= xMin)
        {
            (xMin, xMax) = spec.LogX ? (xMin / 10, xMax * 10) : (xMin - 1, xMax + 1);
        }

        var yTop = Math.Max(points.Count == 0 ? 1 : points.Max(p => p.Y), spec.Goal?.High ?? 0) * 1.1;
        var yStep = NiceStep(yTop / 5);
        yTop = Math.Ceiling(yTop / yStep) * yStep;
        var (plotW, plotH) = (Width - Left - Right, Height - Top - Bottom);
        double X(double x) => Left + (spec.LogX
            ? (Math.Log10(x) - Math.Log10(xMin)) / (Math.Log10(xMax) - Math.Log10(xMin))
            : (x - xMin) / (xMax - xMin)) * plotW;
        double Y(double y) => Top + plotH - (y / yTop * plotH);

        var svg = new StringBuilder();
        svg.Append(Invariant($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" font-family=\"sans-serif\" font-size=\"12\">\n"));
        svg.Append(Invariant($"<rect width=\"{Width}\" height=\"{Height}\" fill=\"#fff\"/>\n"));
        svg.Append(Invariant($"<text x=\"{Width / 2}\" y=\"20\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\">{Escape(spec.Title)}</text>\n"));
        if (spec.Goal is var (low, high))
        {
            svg.Append(Invariant($"<rect x=\"{Left}\" y=\"{Y(high):F1}\" width=\"{plotW}\" height=\"{Y(low) - Y(high):F1}\" fill=\"#2ca02c\" fill-opacity=\"0.15\"/>\n"));
        }

        for (var y = 0.0; y <= yTop + (yStep / 2); y += yStep)
        {
            svg.Append(Invariant($"<line x1=\"{Left}\" y1=\"{Y(y):F1}\" x2=\"{Left + plotW}\" y2=\"{Y(y):F1}\" stroke=\"#ddd\"/>"));
            svg.Append(Invariant($"<text x=\"{Left - 6}\" y=\"{Y(y) + 4:F1}\" text-anchor=\"end\">{Number(y)}</text>\n"));
        }

        foreach (var x in points.Select(p => p.X).Distinct().Order())
        {
            svg.Append(Invariant($"<line x1=\"{X(x):F1}\" y1=\"{Top + plotH}\" x2=\"{X(x):F1}\" y2=\"{Top + plotH + 4}\" stroke=\"#333\"/>"));
            svg.Append(Invariant($"<text x=\"{X(x):F1}\" y=\"{Top + plotH + 18}\" text-anchor=\"middle\">{Number(x)}</text>\n"));
        }

        svg.Append(Invariant($"<line x1=\"{Left}\" y1=\"{Top + plotH}\" x2=\"{Left + plotW}\" y2=\"{Top + plotH}\" stroke=\"#333\"/>"));
        svg.Append(Invariant($"<line x1=\"{Left}\" y1=\"{Top}\" x2=\"{Left}\" y2=\"{Top + plotH}\" stroke=\"#333\"/>\n"));
        svg.Append(Invariant($"<text x=\"{Left + (plotW / 2)}\" y=\"{Height - 10}\" text-anchor=\"middle\">{Escape(spec.XLabel)}{(spec.LogX ? " (log scale)" : "")}</text>\n"));
        svg.Append(Invariant($"<text transform=\"translate(16 {Top + (plotH / 2)}) rotate(-90)\" text-anchor=\"middle\">{Escape(spec.YLabel)}</text>\n"));

        var legendY = Top + 10;
        for (var i = 0; i < spec.Lines.Count; i++)
        {
            var line = spec.Lines[i];
            var colour = Colours[i % Colours.Length];
            var drawn = line.Points.Where(p => double.IsFinite(p.Y) && p.X > 0).OrderBy(p => p.X).ToList();
            if (drawn.Count > 1)
            {
                svg.Append(Invariant($"<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{string.Join(' ', drawn.Select(p => Invariant($"{X(p.X):F1},{Y(p.Y):F1}")))}\"/>\n"));
            }

            foreach (var p in drawn)
            {
                svg.Append(Invariant($"<circle cx=\"{X(p.X):F1}\" cy=\"{Y(p.Y):F1}\" r=\"3.5\" fill=\"{colour}\"><title>{Escape(line.Name)}: {Number(p.X)} → {Number(p.Y)}</title></circle>\n"));
            }

            svg.Append(Invariant($"<line x1=\"{Width - Right + 12}\" y1=\"{legendY}\" x2=\"{Width - Right + 32}\" y2=\"{legendY}\" stroke=\"{colour}\" stroke-width=\"2\"/>"));
            svg.Append(Invariant($"<text x=\"{Width - Right + 38}\" y=\"{legendY + 4}\">{Escape(line.Name)}</text>\n"));
            legendY += 18;
        }

        if (spec.Goal is not null)
        {
            svg.Append(Invariant($"<rect x=\"{Width - Right + 12}\" y=\"{legendY - 6}\" width=\"20\" height=\"12\" fill=\"#2ca02c\" fill-opacity=\"0.15\"/>"));
            svg.Append(Invariant($"<text x=\"{Width - Right + 38}\" y=\"{legendY + 4}\">{Escape(spec.GoalLabel)}</text>\n"));
        }

        svg.Append("</svg>\n");
        return svg.ToString();
    }

    /// <summary>1, 2 or 5 times a power of ten, at least <paramref name="rough"/>.</summary>
    private static double NiceStep(double rough)
    {
        if (rough <= 0 || !double.IsFinite(rough))
        {
            return 1;
        }

        var power = Math.Pow(10, Math.Floor(Math.Log10(rough)));
        return new[] { 1, 2, 5, 10 }.Select(m => m * power).First(s => s >= rough);
    }

    private static string Number(double value) =>
        Math.Abs(value) >= 1000 ? value.ToString("#,0", CultureInfo.InvariantCulture)
        : Math.Abs(value) >= 10 || value == 0 ? value.ToString("0.#", CultureInfo.InvariantCulture)
        : value.ToString("0.##", CultureInfo.InvariantCulture);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static string Escape(string text) => WebUtility.HtmlEncode(text);
}

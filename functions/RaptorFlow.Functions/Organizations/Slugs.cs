using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace RaptorFlow.Functions.Organizations;

/// <summary>Org slugs: lower-case, 3-40 characters of [a-z0-9-], not starting or ending with '-'.</summary>
public static partial class Slugs
{
    public const int MinLength = 3;
    public const int MaxLength = 40;

    public static bool IsValid(string slug) => SlugPattern().IsMatch(slug);

    /// <summary>A slug from a display name: ASCII letters and digits kept, everything else a single '-'.</summary>
    public static string FromName(string name)
    {
        var builder = new StringBuilder(name.Length);
        foreach (var c in name.ToLowerInvariant())
        {
            var folded = c is >= 'a' and <= 'z' or >= '0' and <= '9' ? c.ToString() : Fold(c);
            if (folded.Length > 0)
            {
                builder.Append(folded);
            }
            else if (builder.Length > 0 && builder[^1] != '-')
            {
                builder.Append('-');
            }
        }

        var slug = builder.ToString().Trim('-');
        if (slug.Length > MaxLength - 5)
        {
            slug = slug[..(MaxLength - 5)].TrimEnd('-');
        }

        return slug.Length >= MinLength ? slug : WithSuffix(slug.Length == 0 ? "org" : "org-" + slug);
    }

    /// <summary>The same slug with a short random suffix, for when a generated slug is taken.</summary>
    public static string WithSuffix(string slug) =>
        $"{slug[..Math.Min(slug.Length, MaxLength - 5)].TrimEnd('-')}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(2))}";

    // The app runs with invariant globalization (no Unicode normalization), so Latin-1 letters are folded by hand.
    private const string Latin1From = "àáâãäåçèéêëìíîïðñòóôõöøùúûüýÿ";
    private const string Latin1To = "aaaaaaceeeeiiiidnoooooouuuuyy";

    private static string Fold(char c)
    {
        var index = Latin1From.IndexOf(c, StringComparison.Ordinal);
        return index >= 0 ? Latin1To[index].ToString() : c switch
        {
            'æ' => "ae",
            'œ' => "oe",
            'ß' => "ss",
            'þ' => "th",
            _ => "",
        };
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$")]
    private static partial Regex SlugPattern();
}

namespace RaptorFlow.Functions.Organizations;

/// <summary>Input hygiene shared by the org, member and invitation endpoints.</summary>
public static class FieldRules
{
    /// <summary>Trims; rejects control characters and over-long values; null when absent.</summary>
    public static string? Text(string? value, string field, int maxLength, IDictionary<string, string[]> errors, bool required)
    {
        var trimmed = value?.Trim();
        if (string.IsNullOrEmpty(trimmed))
        {
            if (required || value is not null)
            {
                errors[field] = ["Required and not blank."];
            }

            return null;
        }

        if (trimmed.Length > maxLength)
        {
            errors[field] = [$"At most {maxLength} characters."];
            return null;
        }

        if (trimmed.Any(char.IsControl))
        {
            errors[field] = ["Control characters are not allowed."];
            return null;
        }

        if (trimmed.Any(IsBidiControl))
        {
            errors[field] = ["Bidirectional embedding, override and isolate characters are not allowed."];
            return null;
        }

        if (!trimmed.Any(IsVisible))
        {
            errors[field] = ["Required and not blank."];
            return null;
        }

        return trimmed;
    }

    /// <summary>U+202A–U+202E and U+2066–U+2069 reorder the text around them, so a name could show as something it is not.</summary>
    private static bool IsBidiControl(char c) => c is >= '\u202A' and <= '\u202E' or >= '\u2066' and <= '\u2069';

    /// <summary>Whitespace and format characters (zero-width spaces, joiners, byte-order marks) show nothing on their own.</summary>
    private static bool IsVisible(char c) => !char.IsWhiteSpace(c) && char.GetUnicodeCategory(c) != System.Globalization.UnicodeCategory.Format;
}

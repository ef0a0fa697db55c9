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

        return trimmed;
    }
}

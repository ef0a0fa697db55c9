namespace RaptorFlow.Functions.Platform.Problems;

/// <summary>Thrown where a problem is detected deep in a call chain; turned into problem+json at the edge.</summary>
public sealed class ApiProblemException(int status, string code, string title, string? detail = null, IDictionary<string, string[]>? errors = null) : Exception(detail ?? title)
{
    public int Status { get; } = status;
    public string Code { get; } = code;
    public string Title { get; } = title;
    public string? Detail { get; } = detail;

    /// <summary>The invalid fields, for a <c>validation.failed</c> problem.</summary>
    public IDictionary<string, string[]>? Errors { get; } = errors;
}

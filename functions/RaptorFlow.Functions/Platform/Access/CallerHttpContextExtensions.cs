namespace RaptorFlow.Functions.Platform.Access;

public static class CallerHttpContextExtensions
{
    private static readonly object CallerKey = new();

    /// <summary>The authenticated caller; endpoints that declare a capability always have one.</summary>
    public static Caller GetCaller(this HttpContext context) =>
        context.FindCaller() ?? throw new InvalidOperationException("The endpoint has no authenticated caller; declare a capability on it.");

    public static Caller? FindCaller(this HttpContext context)
    {
        if (context.Items.TryGetValue(CallerKey, out var cached) && cached is Caller caller)
        {
            return caller;
        }

        var found = Caller.From(context.User);
        if (found is not null)
        {
            context.Items[CallerKey] = found;
        }

        return found;
    }
}

namespace RaptorFlow.Functions.Platform.Access;

/// <summary>The users granted <c>platform:admin</c> by configuration (<c>Auth:PlatformAdmins</c>).</summary>
public sealed class PlatformAdmins(Microsoft.Extensions.Options.IOptions<AuthSettings> settings)
{
    private readonly HashSet<string> _ids = new(settings.Value.PlatformAdmins.Where(s => !string.IsNullOrWhiteSpace(s)), StringComparer.Ordinal);

    public bool Contains(Caller caller) => caller.IsUser && _ids.Contains(caller.Id);
}

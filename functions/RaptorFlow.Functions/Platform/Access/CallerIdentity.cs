using System.Security.Claims;

namespace RaptorFlow.Functions.Platform.Access;

/// <summary>
/// The identity of a scheme that already knows its <see cref="Caller"/> (an API key): the caller
/// travels with the principal instead of as claims that would be parsed back into one per request.
/// </summary>
public sealed class CallerIdentity(Caller caller, string authenticationType) : ClaimsIdentity(authenticationType)
{
    public Caller Caller { get; } = caller;

    public override string? Name => Caller.Name;

    public override ClaimsIdentity Clone() => new CallerIdentity(Caller, AuthenticationType!);
}

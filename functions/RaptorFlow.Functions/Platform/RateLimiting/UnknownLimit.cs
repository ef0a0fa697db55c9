namespace RaptorFlow.Functions.Platform.RateLimiting;

/// <summary>What a limit decides when its shared bucket cannot be reached and this instance holds none of it.</summary>
public enum UnknownLimit
{
    /// <summary>Not enforced: the API answers rather than refuse for an outage of the limits' table.</summary>
    Admit,

    /// <summary>Refused for now: work that can wait (a webhook send) waits rather than exceed the limit.</summary>
    Refuse,
}

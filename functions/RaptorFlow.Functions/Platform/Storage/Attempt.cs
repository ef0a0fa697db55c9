namespace RaptorFlow.Functions.Platform.Storage;

/// <summary>What one round decided: a result, or that it lost the race and must read again.</summary>
public readonly record struct Attempt<T>(bool Lost, T Value)
{
    public static implicit operator Attempt<T>(T value) => new(false, value);
}

/// <summary>The two decisions of a round, for when the result's type must be named.</summary>
public static class Attempt
{
    public static Attempt<T> Done<T>(T value) => new(false, value);

    public static Attempt<T> LostRace<T>() => new(true, default!);
}

namespace RaptorFlow.Functions.ApiKeys;

/// <summary>How a change to a key through <see cref="ApiKeyRing"/> ended.</summary>
public enum KeyChangeOutcome
{
    /// <summary>Written; the change carries the key as stored (and a new secret, for create and roll).</summary>
    Done,

    /// <summary>Nothing to do: the key was already as asked (a revoke of a revoked key).</summary>
    Unchanged,

    /// <summary>No such key in the org.</summary>
    NotFound,

    /// <summary>The caller's <c>If-Match</c> names a version that is no longer current.</summary>
    Stale,

    /// <summary>The key is revoked or expired, so it cannot be rolled.</summary>
    NotActive,
}

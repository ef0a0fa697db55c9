namespace RaptorFlow.Functions.Ledger;

/// <summary>The idempotency key was already used for different lines; nothing was written.</summary>
public sealed class PostingConflictException(string message) : Exception(message);

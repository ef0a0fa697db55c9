namespace RaptorFlow.Functions.Ledger;

/// <summary>The batch breaks a ledger rule (unbalanced, unknown account, bad amount); nothing was written.</summary>
public sealed class InvalidPostingException(string message) : Exception(message);

namespace RaptorFlow.Functions.Ledger;

/// <summary>A posting would have taken an account it guards below zero; nothing was written. Decide again from the balance now.</summary>
public sealed class InsufficientBalanceException(string ledgerId, string account, string currency, long balance)
    : Exception($"Account {account} ({currency}) of ledger {ledgerId} holds {balance}; the posting would take it below zero.")
{
    public string Account { get; } = account;
    public string Currency { get; } = currency;
}

namespace RaptorFlow.Functions.Ledger;

public enum PostingOutcome
{
    Posted,
    AlreadyPosted,
}

public sealed record PostingResult(string TransactionId, PostingOutcome Outcome);

using Microsoft.AspNetCore.Http.HttpResults;
using RaptorFlow.Functions.Platform.Access;
using RaptorFlow.Functions.Platform.Http;
using RaptorFlow.Functions.Platform.Ids;
using RaptorFlow.Functions.Platform.Paging;
using RaptorFlow.Functions.Platform.Problems;

namespace RaptorFlow.Functions.Ledger;

/// <summary>An org's ledger, read-only: entries are written only by postings (payments, invoices).</summary>
public static class LedgerApi
{
    public static IEndpointRouteBuilder MapLedger(this IEndpointRouteBuilder routes)
    {
        var ledger = routes.MapGroup("/api/v1/orgs/{orgId}/ledger").WithTags("Ledger").RequireCapability(Capability.LedgerRead);

        ledger.MapGet("/accounts", AccountsAsync)
            .WithName("ListLedgerAccounts")
            .WithSummary("The org's chart of accounts with debit and credit totals and the balance per currency.");
        ledger.MapGet("/transactions", TransactionsAsync)
            .WithName("ListLedgerTransactions")
            .WithSummary("The org's journal in posting order, each transaction with its lines and source event.");
        ledger.MapGet("/transactions/{transactionId}", TransactionAsync)
            .WithName("GetLedgerTransaction")
            .WithSummary("One transaction with its lines.");
        ledger.MapGet("/trial-balance", TrialBalanceAsync)
            .WithName("GetTrialBalance")
            .WithSummary("Every account's balance as of a moment (default now), per currency; debits always equal credits.");

        return routes;
    }

    public static async Task<Ok<CursorPage<AccountSummary>>> AccountsAsync(string orgId, LedgerReader reader, CancellationToken cancellationToken) =>
        TypedResults.Ok(new CursorPage<AccountSummary>(await reader.AccountsAsync(orgId, cancellationToken), null));

    public static async Task<Ok<CursorPage<LedgerTransaction>>> TransactionsAsync(
        string orgId, PageRequest page, LedgerReader reader, CancellationToken cancellationToken)
    {
        var scope = "ledger-transactions:" + orgId;
        var after = page.Cursor is null ? null : TablePaging.Decode(page.Cursor, scope);
        if (after is not null && !IdGenerator.IsWellFormed(after, "txn"))
        {
            throw PageRequest.Invalid("cursor", "cursor is not one this API issued for this list.");
        }

        var result = await reader.TransactionsAsync(orgId, page.Limit, after, cancellationToken);
        return TypedResults.Ok(new CursorPage<LedgerTransaction>(result.Data, result.NextCursor is null ? null : TablePaging.Encode(result.NextCursor, scope)));
    }

    public static async Task<Results<Ok<LedgerTransaction>, ProblemHttpResult>> TransactionAsync(
        string orgId, string transactionId, LedgerReader reader, CancellationToken cancellationToken) =>
        IdGenerator.IsWellFormed(transactionId, "txn") && await reader.TransactionAsync(orgId, transactionId, cancellationToken) is { } found
            ? TypedResults.Ok(found)
            : ApiProblem.NotFound("ledger.transaction_not_found", "No transaction with this id in the org's ledger.");

    public static async Task<Results<Ok<TrialBalance>, ProblemHttpResult>> TrialBalanceAsync(
        string orgId, HttpRequest http, LedgerReader reader, CancellationToken cancellationToken)
    {
        var query = new QueryValues(http.Query);
        var at = query.Instant("asOf", assumeUtc: true);
        return query.IsValid ? TypedResults.Ok(await reader.TrialBalanceAsync(orgId, at, cancellationToken)) : query.Problem();
    }
}

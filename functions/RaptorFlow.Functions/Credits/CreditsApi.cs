using Microsoft.AspNetCore.Http.HttpResults;
using RaptorFlow.Functions.Ledger;
using RaptorFlow.Functions.Platform.Access;
using RaptorFlow.Functions.Platform.Paging;

namespace RaptorFlow.Functions.Credits;

public sealed record CreditBalance(string Currency, long BalanceMinor);

/// <summary>The org's prepaid credit per currency and a page of its movements (credits add to it, debits draw on it).</summary>
public sealed record CreditsResponse(IReadOnlyList<CreditBalance> Balances, IReadOnlyList<AccountEntry> Movements, string? NextCursor);

public static class CreditsApi
{
    public static IEndpointRouteBuilder MapCreditRoutes(this IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup("/api/v1/orgs/{orgId}/credits").WithTags("Credits");
        api.MapGet("/", GetAsync).RequireCapability(Capability.BillingRead)
            .WithName("GetCredits").WithSummary("The org's prepaid credit (customer_credit) per currency and its movements, paginated.");
        return routes;
    }

    public static async Task<Ok<CreditsResponse>> GetAsync(string orgId, PageRequest page, LedgerReader reader, CancellationToken cancellationToken)
    {
        var accounts = await reader.AccountsAsync(orgId, cancellationToken);
        var balances = accounts.Where(a => a.Code == ChartOfAccounts.CustomerCredit)
            .SelectMany(a => a.Balances)
            .Select(b => new CreditBalance(b.Currency, b.Balance))
            .ToList();
        var (movements, next) = await reader.EntriesAsync(orgId, ChartOfAccounts.CustomerCredit, page, cancellationToken);
        return TypedResults.Ok(new CreditsResponse(balances, movements, next));
    }
}

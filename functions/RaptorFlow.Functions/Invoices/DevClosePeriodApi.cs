using Microsoft.AspNetCore.Http.HttpResults;
using RaptorFlow.Functions.Platform.Access;

namespace RaptorFlow.Functions.Invoices;

/// <summary>
/// A development seam: closes the org's current calendar month now, through the same
/// <see cref="GenerateInvoices.CloseOrgAsync"/> a month's close runs, so a local console or a browser
/// test can see an invoice without waiting for the month to end.
/// </summary>
public static class DevClosePeriodApi
{
    /// <summary>Maps the route only while the development issuer is on, which the app refuses in Azure.</summary>
    public static IEndpointRouteBuilder MapDevClosePeriod(this IEndpointRouteBuilder routes)
    {
        if (routes.ServiceProvider.GetService<DevTokenIssuer>() is null)
        {
            return routes;
        }

        routes.MapPost("/api/dev/orgs/{orgId}/close-period", CloseAsync)
            .RequireCapability(Capability.BillingManage)
            .WithTags("Development")
            .WithName("DevCloseOrgPeriod")
            .WithSummary("Development only (with the dev issuer): closes the org's current calendar month into its invoice now; again, answers the same invoice.");
        return routes;
    }

    public static async Task<Ok<InvoiceResponse>> CloseAsync(string orgId, GenerateInvoices invoices, BillingIndex index, TimeProvider time)
    {
        // Not cancelled with the request, as a queue run is not: a close stopped halfway is left for the next run.
        var invoice = await invoices.CloseOrgAsync(orgId, BillingIndex.PeriodOf(time.GetUtcNow()), CancellationToken.None);
        if (invoice.Pending)
        {
            // A step could not finish (no Razorpay locally, say): GenerateInvoices finishes it, as after a real close.
            await index.MarkPendingAsync(orgId, CancellationToken.None);
        }

        return TypedResults.Ok(InvoicesApi.ToResponse(invoice));
    }
}

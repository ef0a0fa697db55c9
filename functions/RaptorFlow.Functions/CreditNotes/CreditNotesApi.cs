using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using RaptorFlow.Functions.Invoices;
using RaptorFlow.Functions.Organizations;
using RaptorFlow.Functions.Platform.Access;
using RaptorFlow.Functions.Platform.Paging;
using RaptorFlow.Functions.Platform.Problems;

namespace RaptorFlow.Functions.CreditNotes;

public enum CreditNoteStatus
{
    Issued,
    Cancelled,
}

public sealed record CreditNoteResponse(
    string Id,
    string OrgId,
    string Number,
    CreditNoteStatus Status,
    DateTimeOffset IssuedAt,
    string FinancialYear,
    string InvoiceId,
    string? InvoiceNumber,
    string PaymentId,
    string RefundId,
    string Currency,
    long NetMinor,
    long TaxMinor,
    long TotalMinor,
    DateTimeOffset? CancelledAt);

public static class CreditNotesApi
{
    public static IEndpointRouteBuilder MapCreditNoteRoutes(this IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup("/api/v1/orgs/{orgId}/credit-notes").WithTags("Credit notes");

        api.MapGet("/", ListAsync).RequireCapability(Capability.BillingRead)
            .WithName("ListCreditNotes").WithSummary("The org's GST credit notes, oldest first, paginated.");
        api.MapGet("/{creditNoteId}", GetAsync).RequireCapability(Capability.BillingRead)
            .WithName("GetCreditNote").WithSummary("One credit note: the invoice it credits, net, tax and total in minor units.");
        api.MapGet("/{creditNoteId}.html", GetHtmlAsync).RequireCapability(Capability.BillingRead)
            .WithName("GetCreditNoteHtml").WithSummary("A printable HTML rendering of one credit note.")
            .Produces(StatusCodes.Status200OK, contentType: "text/html")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return routes;
    }

    public static async Task<Ok<CursorPage<CreditNoteResponse>>> ListAsync(
        string orgId, PageRequest page, CreditNoteBook book, CancellationToken cancellationToken)
    {
        var (rows, next) = await book.ListAsync(orgId, page, cancellationToken);
        return TypedResults.Ok(new CursorPage<CreditNoteResponse>(rows.Select(ToResponse).ToList(), next));
    }

    public static async Task<Results<Ok<CreditNoteResponse>, ProblemHttpResult>> GetAsync(
        string orgId, string creditNoteId, CreditNoteBook book, CancellationToken cancellationToken) =>
        await book.FindAsync(orgId, creditNoteId, cancellationToken) is { Number: not null } row
            ? TypedResults.Ok(ToResponse(row))
            : NotFound();

    public static async Task<Results<ContentHttpResult, ProblemHttpResult>> GetHtmlAsync(
        string orgId, string creditNoteId, HttpContext context, CreditNoteBook book, OrgDirectory directory,
        IOptions<InvoiceSettings> settings, CancellationToken cancellationToken)
    {
        if (await book.FindAsync(orgId, creditNoteId, cancellationToken) is not { Number: not null } row)
        {
            return NotFound();
        }

        var org = await directory.FindAsync(orgId, cancellationToken);
        context.Response.Headers.ContentSecurityPolicy = InvoiceHtml.ContentSecurityPolicy;
        return TypedResults.Content(CreditNoteHtml.Render(row, org?.Name ?? orgId, settings.Value), "text/html; charset=utf-8");
    }

    internal static CreditNoteResponse ToResponse(CreditNoteRow row) => new(
        row.NoteId,
        row.OrgId,
        row.Number ?? "",
        row.Cancelled ? CreditNoteStatus.Cancelled : CreditNoteStatus.Issued,
        row.IssuedAt,
        row.FinancialYear,
        row.InvoiceId,
        row.InvoiceNumber,
        row.PaymentId,
        row.RefundId,
        row.Currency,
        row.NetMinor,
        row.TaxMinor,
        row.TotalMinor,
        row.CancelledAt);

    private static ProblemHttpResult NotFound() =>
        ApiProblem.NotFound("credit_note.not_found", "This org has no such credit note.");
}

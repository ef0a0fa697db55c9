using Microsoft.Extensions.DependencyInjection.Extensions;
using RaptorFlow.Functions.Platform.Storage;
using RaptorFlow.Functions.Razorpay;

namespace RaptorFlow.Functions.CreditNotes;

/// <summary>GST credit notes for refunds of invoice payments: issuing (numbered in the invoice numbering's own series) and the endpoints.</summary>
public static class CreditNotesRegistration
{
    public static WebApplicationBuilder AddCreditNotes(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddStorageTable(CreditNoteKeys.TableName);
        services.AddSingleton<CreditNoteBook>();

        // Replaces the payment processor's default, under which no refund is covered by a note.
        services.RemoveAll<IRefundCreditNotes>();
        services.AddSingleton<IRefundCreditNotes, CreditNoteIssuer>();
        return builder;
    }

    public static WebApplication MapCreditNotes(this WebApplication app)
    {
        app.MapCreditNoteRoutes();
        return app;
    }
}

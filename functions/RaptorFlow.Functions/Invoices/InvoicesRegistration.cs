using Microsoft.Extensions.DependencyInjection.Extensions;
using RaptorFlow.Functions.Hosting;
using RaptorFlow.Functions.Platform.Settings;
using RaptorFlow.Functions.Platform.Storage;
using RaptorFlow.Functions.Razorpay;

namespace RaptorFlow.Functions.Invoices;

/// <summary>Monthly invoices: the GenerateInvoices timer, numbering, settlement by Razorpay payments, and the endpoints.</summary>
public static class InvoicesRegistration
{
    public static WebApplicationBuilder AddInvoices(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSettings<InvoiceSettings>();
        services.AddStorageTable(InvoiceKeys.TableName);
        services.AddStorageTable(InvoiceNumbering.TableName);
        services.AddStorageTable(BillingIndex.TableName);
        services.AddSingleton<BillingIndex>();
        services.AddSingleton<InvoiceBook>();
        services.AddSingleton<InvoiceNumbering>();
        services.AddScoped<InvoiceIssuer>();

        // Replaces the payment processor's default, under which no invoice is ever open.
        services.RemoveAll<IInvoiceSettlement>();
        services.AddSingleton<IInvoiceSettlement, InvoiceSettlement>();

        services.AddTimerFunction<GenerateInvoices>(GenerateInvoices.FunctionName, GenerateInvoices.Schedule);

        // Configurable so each test app can use its own queue; in Azure it is always close-org-period.
        var closeQueue = new CloseOrgPeriodQueue(builder.Configuration["Invoices:CloseQueue"] ?? CloseOrgPeriodQueue.Default);
        services.AddSingleton(closeQueue);
        services.AddQueueFunction<CloseOrgPeriod>(CloseOrgPeriod.FunctionName, closeQueue.Name);
        return builder;
    }

    public static WebApplication MapInvoices(this WebApplication app)
    {
        app.MapInvoiceRoutes();
        app.MapDevClosePeriod();
        return app;
    }
}

using RaptorFlow.Functions.Platform.Settings;
using RaptorFlow.Functions.Platform.Storage;
using RaptorFlow.Functions.Razorpay;

namespace RaptorFlow.Functions.Payments;

public static class PaymentsRegistration
{
    /// <summary>Razorpay Checkout orders, verification, the org's payments and refunds.</summary>
    public static WebApplicationBuilder AddPayments(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSettings<PaymentsSettings>();
        services.AddStorageTable(PaymentKeys.TableName);
        services.AddSingleton<PaymentBook>();
        services.AddSingleton<ICheckoutOrders>(sp => sp.GetRequiredService<PaymentBook>());
        services.AddSingleton<CheckoutSignature>();
        services.AddSingleton<CheckoutOrders>();
        services.AddSingleton<PaymentViews>();
        services.AddSingleton<PaymentRefunds>();
        services.AddSingleton<IRazorpayEventObserver, PaymentActivity>();
        return builder;
    }

    public static WebApplication MapPayments(this WebApplication app)
    {
        app.MapPaymentRoutes();
        return app;
    }
}

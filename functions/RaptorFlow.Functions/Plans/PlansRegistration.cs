using Microsoft.Extensions.Options;
using RaptorFlow.Functions.Platform.Settings;
using RaptorFlow.Functions.Platform.Storage;
using RaptorFlow.Functions.Razorpay;

namespace RaptorFlow.Functions.Plans;

public static class PlansRegistration
{
    public static WebApplicationBuilder AddPlans(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSettings<PlanSettings>();
        services.AddSingleton<IValidateOptions<PlanSettings>, PlanSettingsValidation>();
        services.AddSingleton<PlanCatalog>();
        services.AddStorageTable(SubscriptionRow.TableName);
        services.AddSingleton<SubscriptionStore>();
        services.AddSingleton<ISubscriptions>(sp => sp.GetRequiredService<SubscriptionStore>());
        services.AddStorageTable(RazorpayPlanRow.TableName);
        services.AddScoped<RazorpayPlans>();
        services.AddScoped<RecurringCollection>();
        services.AddScoped<IRazorpayEventConsumer, SubscriptionEventConsumer>();
        services.AddScoped<IRazorpayEventConsumer, SubscriptionChargeRecognition>();
        return builder;
    }

    public static WebApplication MapPlans(this WebApplication app)
    {
        app.MapPlanRoutes();
        return app;
    }
}

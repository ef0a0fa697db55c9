namespace RaptorFlow.Functions.Credits;

/// <summary>Prepaid credit: drawing on customer_credit without overdrawing it, and its endpoint.</summary>
public static class CreditsRegistration
{
    public static WebApplicationBuilder AddCredits(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<PrepaidCredit>();
        builder.Services.AddSingleton<CreditHolds>();
        return builder;
    }

    public static WebApplication MapCredits(this WebApplication app)
    {
        app.MapCreditRoutes();
        return app;
    }
}

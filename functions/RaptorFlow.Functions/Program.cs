using RaptorFlow.Functions.ApiKeys;
using RaptorFlow.Functions.Audit;
using RaptorFlow.Functions.CreditNotes;
using RaptorFlow.Functions.Credits;
using RaptorFlow.Functions.Events;
using RaptorFlow.Functions.Hosting;
using RaptorFlow.Functions.Idempotency;
using RaptorFlow.Functions.Invitations;
using RaptorFlow.Functions.Invoices;
using RaptorFlow.Functions.Ledger;
using RaptorFlow.Functions.Mail;
using RaptorFlow.Functions.Members;
using RaptorFlow.Functions.Operations;
using RaptorFlow.Functions.Organizations;
using RaptorFlow.Functions.Payments;
using RaptorFlow.Functions.Plans;
using RaptorFlow.Functions.Platform;
using RaptorFlow.Functions.Platform.Access;
using RaptorFlow.Functions.Platform.OpenApi;
using RaptorFlow.Functions.Privacy;
using RaptorFlow.Functions.Razorpay;
using RaptorFlow.Functions.Stats;
using RaptorFlow.Functions.Usage;
using RaptorFlow.Functions.Webhooks;

namespace RaptorFlow.Functions;

public static class Program
{
    public static Task Main(string[] args)
    {
        if (args is [FunctionMetadata.WriteArgument, var directory, ..])
        {
            var app = Build(args[2..]);
            FunctionMetadata.Write(directory, app.Services.GetServices<FunctionDeclaration>());
            return Task.CompletedTask;
        }

        if (args is [ApiDocumentRegistration.WriteArgument, var file, ..])
        {
            return ApiDocumentRegistration.WriteAsync(Build(["--urls=http://127.0.0.1:0", "--Hosting:Standalone:Enabled=false", .. args[2..]]), file);
        }

        return Build(args).RunAsync();
    }

    /// <summary>Builds the app; tests pass <paramref name="customize"/> to swap boundaries (time, Razorpay, Key Vault).</summary>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? customize = null, Action<WebApplication>? mapMore = null)
    {
        // The slim builder leaves out what a loopback custom handler never uses (HTTPS and QUIC in
        // Kestrel, IIS, static web assets, regex route constraints, the Debug and EventSource
        // loggers); configuration sources, console logging and options validation are the same.
        var builder = WebApplication.CreateSlimBuilder(args);
        builder.AddFunctionHost();
        builder.AddPlatform(ApiJsonContext.Default, GeneratedSettings.Instance);
        builder.AddHeartbeat();
        builder.AddAccess();
        builder.AddIdempotency();
        builder.AddOrganizations();
        builder.AddMembers();
        builder.AddInvitations();
        builder.AddAudit();
        builder.AddEvents();
        builder.AddApiKeys();
        builder.AddLedger();
        builder.AddRazorpay();
        builder.AddPlans();
        builder.AddUsage();
        builder.AddInvoices();
        builder.AddCredits();
        builder.AddCreditNotes();
        builder.AddWebhooks();
        builder.AddPayments();
        builder.AddStats();
        builder.AddOperations();
        builder.AddPrivacy();
        builder.AddMail();

        customize?.Invoke(builder);

        var app = builder.Build();
        app.UsePlatform();
        app.UseAccess();
        app.UseIdempotency();
        app.MapDevIssuer();
        app.MapPlatform();
        app.MapFunctionHost();
        app.MapOrganizations();
        app.MapMembers();
        app.MapInvitations();
        app.MapAudit();
        app.MapEvents();
        app.MapApiKeys();
        app.MapLedger();
        app.MapRazorpay();
        app.MapPlans();
        app.MapUsage();
        app.MapInvoices();
        app.MapCredits();
        app.MapCreditNotes();
        app.MapWebhooks();
        app.MapPayments();
        app.MapStats();
        app.MapPrivacy();
        app.MapMail();

        mapMore?.Invoke(app);

        return app;
    }
}

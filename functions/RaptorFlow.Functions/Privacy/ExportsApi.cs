using Microsoft.AspNetCore.Http.HttpResults;
using RaptorFlow.Functions.Audit;
using RaptorFlow.Functions.Idempotency;
using RaptorFlow.Functions.Platform.Access;
using RaptorFlow.Functions.Platform.Problems;

namespace RaptorFlow.Functions.Privacy;

public static class ExportsApi
{
    public static IEndpointRouteBuilder MapExportRoutes(this IEndpointRouteBuilder routes)
    {
        var org = routes.MapGroup("/api/v1/orgs/{orgId}/exports").WithTags("Privacy");
        org.MapPost("/", RequestOrgExportAsync).RequireCapability(Capability.OrgExport).WithIdempotency()
            .WithName("RequestOrgExport").WithSummary("Starts an export of all the org's data as a zip of NDJSON files; answers 202 with the export to poll.");
        org.MapGet("/{exportId}", GetOrgExportAsync).RequireCapability(Capability.OrgExport)
            .WithName("GetOrgExport").WithSummary("An export's status and progress; once ready, a download URL valid for 15 minutes.");

        var me = routes.MapGroup("/api/v1/me/exports").WithTags("Privacy");
        me.MapPost("/", RequestMyExportAsync).RequireCapability(Capability.ProfileExport).WithIdempotency()
            .WithName("RequestMyExport").WithSummary("Starts an export of the signed-in user's own data; answers 202 with the export to poll.");
        me.MapGet("/{exportId}", GetMyExportAsync).RequireCapability(Capability.ProfileExport)
            .WithName("GetMyExport").WithSummary("One of the signed-in user's exports; once ready, a download URL valid for 15 minutes.");
        return routes;
    }

    public static async Task<Accepted<ExportResponse>> RequestOrgExportAsync(string orgId, HttpContext context, ExportBook book, AuditLog audit)
    {
        var export = await book.RequestAsync(ExportScope.Org, orgId, context.GetCaller(), CancellationToken.None);
        await audit.RecordAsync(context, orgId, new AuditEntry("org.export_requested", "export", export.ExportId));
        return TypedResults.Accepted($"/api/v1/orgs/{orgId}/exports/{export.ExportId}", await ToResponseAsync(export, null, CancellationToken.None));
    }

    public static async Task<Accepted<ExportResponse>> RequestMyExportAsync(HttpContext context, ExportBook book)
    {
        var caller = context.GetCaller();
        var export = await book.RequestAsync(ExportScope.User, caller.Id, caller, CancellationToken.None);
        return TypedResults.Accepted($"/api/v1/me/exports/{export.ExportId}", await ToResponseAsync(export, null, CancellationToken.None));
    }

    public static Task<Results<Ok<ExportResponse>, ProblemHttpResult>> GetOrgExportAsync(
        string orgId, string exportId, ExportBook book, ExportDownloads downloads, CancellationToken cancellationToken) =>
        GetAsync(ExportKeys.Partition(ExportScope.Org, orgId), exportId, book, downloads, cancellationToken);

    public static Task<Results<Ok<ExportResponse>, ProblemHttpResult>> GetMyExportAsync(
        string exportId, HttpContext context, ExportBook book, ExportDownloads downloads, CancellationToken cancellationToken) =>
        GetAsync(ExportKeys.Partition(ExportScope.User, context.GetCaller().Id), exportId, book, downloads, cancellationToken);

    private static async Task<Results<Ok<ExportResponse>, ProblemHttpResult>> GetAsync(
        string partition, string exportId, ExportBook book, ExportDownloads downloads, CancellationToken cancellationToken)
    {
        var export = await book.FindAsync(partition, exportId, cancellationToken);
        if (export is null)
        {
            return ApiProblem.NotFound("export.not_found", "No export with this id is visible to the caller.");
        }

        return TypedResults.Ok(await ToResponseAsync(export, downloads, cancellationToken));
    }

    private static async Task<ExportResponse> ToResponseAsync(ExportRow export, ExportDownloads? downloads, CancellationToken cancellationToken)
    {
        (Uri Url, DateTimeOffset ExpiresAt)? download = export.Status == ExportStatus.Ready && downloads is not null
            ? await downloads.SignAsync(export, cancellationToken)
            : null;
        return new ExportResponse(export.ExportId, export.Status, export.Items, export.SizeBytes, export.CreatedAt, export.CompletedAt,
            export.ExpiresAt, download?.Url.ToString(), download?.ExpiresAt, export.Error);
    }
}

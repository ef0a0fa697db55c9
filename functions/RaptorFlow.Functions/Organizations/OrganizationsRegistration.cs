using RaptorFlow.Functions.Audit;
using RaptorFlow.Functions.Invitations;
using RaptorFlow.Functions.Members;
using RaptorFlow.Functions.Platform.Access;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Organizations;

/// <summary>Orgs, their members and invitations, and the audit trail they write.</summary>
public static class OrganizationsRegistration
{
    public static WebApplicationBuilder AddOrganizations(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddStorageTable(OrgTable.Name);
        services.AddStorageTable(UserOrgRow.TableName);
        services.AddStorageTable(OrgSlugRow.TableName);
        services.AddSingleton<OrgDirectory>();
        services.AddSingleton<IOrgAccessResolver>(sp => sp.GetRequiredService<OrgDirectory>());
        services.AddInvitations();
        services.AddAudit();
        return builder;
    }

    public static WebApplication MapOrganizations(this WebApplication app)
    {
        app.MapOrganizationRoutes();
        app.MapMembers();
        app.MapInvitations();
        app.MapAudit();
        return app;
    }
}

using RaptorFlow.Functions.Platform.Access;
using RaptorFlow.Functions.Platform.Storage;

namespace RaptorFlow.Functions.Organizations;

/// <summary>Orgs: their rows, slugs and the user-to-orgs index, and the org access resolver.</summary>
public static class OrganizationsRegistration
{
    public static WebApplicationBuilder AddOrganizations(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddStorageTable(OrgTable.Name);
        services.AddStorageTable(UserOrgRow.TableName);
        services.AddStorageTable(OrgSlugRow.TableName);
        services.AddSingleton<OrgDirectory>();
        services.AddSingleton<OrgPartition>();
        services.AddSingleton<UserOrgIndex>();
        services.AddSingleton<OrgBook>();
        services.AddSingleton<IOrgAccessResolver>(sp => sp.GetRequiredService<OrgDirectory>());
        return builder;
    }

    public static WebApplication MapOrganizations(this WebApplication app)
    {
        app.MapOrganizationRoutes();
        return app;
    }
}

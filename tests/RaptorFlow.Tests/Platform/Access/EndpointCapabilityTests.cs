using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;
using RaptorFlow.Functions.Platform.Access;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Platform.Access;

public sealed class EndpointCapabilityTests(SignedInAppFixture fixture) : IClassFixture<SignedInAppFixture>
{
    [Fact]
    public void Every_endpoint_is_public_or_declares_a_capability()
    {
        var endpoints = fixture.App.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().ToList();
        Assert.NotEmpty(endpoints);

        var unguarded = endpoints
            .Where(e => e.Metadata.GetMetadata<IAllowAnonymous>() is null && e.Metadata.GetMetadata<RequiredCapability>() is null)
            .Select(e => $"{string.Join(",", e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? [])} {e.RoutePattern.RawText}")
            .ToList();
        Assert.True(unguarded.Count == 0, "Endpoints with neither a capability nor a public marker:\n" + string.Join("\n", unguarded));
    }

    [Fact]
    public void Every_declared_capability_is_in_the_catalog_and_guards_with_authorization()
    {
        var endpoints = fixture.App.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>();
        foreach (var endpoint in endpoints.Where(e => e.Metadata.GetMetadata<RequiredCapability>() is not null))
        {
            var capability = endpoint.Metadata.GetMetadata<RequiredCapability>()!.Name;
            Assert.True(Capability.IsKnown(capability), $"{endpoint.RoutePattern.RawText} declares unknown '{capability}'.");
            Assert.NotEmpty(endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>());
            Assert.Null(endpoint.Metadata.GetMetadata<IAllowAnonymous>());
        }
    }

    [Fact]
    public void Org_routes_guard_with_an_org_capability()
    {
        var endpoints = fixture.App.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>();
        foreach (var endpoint in endpoints.Where(e => e.RoutePattern.Parameters.Any(p => p.Name == "orgId")))
        {
            var capability = endpoint.Metadata.GetMetadata<RequiredCapability>()?.Name;
            Assert.True(capability is not null && Capability.OrgScoped.Contains(capability),
                $"{endpoint.RoutePattern.RawText} has {{orgId}} but guards with '{capability}', not an org capability.");
        }
    }

    [Fact]
    public void Roles_are_strictly_ordered_sets()
    {
        var owner = RoleCatalog.CapabilitiesOf(Role.Owner);
        var admin = RoleCatalog.CapabilitiesOf(Role.Admin);
        var member = RoleCatalog.CapabilitiesOf(Role.Member);
        var viewer = RoleCatalog.CapabilitiesOf(Role.Viewer);
        Assert.True(admin.IsProperSubsetOf(owner));
        Assert.True(member.IsProperSubsetOf(admin));
        Assert.True(viewer.IsProperSubsetOf(member));
        Assert.True(owner.IsSubsetOf(Capability.OrgScoped));
    }
}

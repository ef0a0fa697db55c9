using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Options;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Platform.Access;

public sealed class EntraSignInTests
{
    private const string ExternalIdInstance = "https://contoso.ciamlogin.com/";

    private static Uri Me => new("/api/v1/me", UriKind.Relative);

    private static string NewTenant() => Guid.NewGuid().ToString();

    private static string WorkforceIssuer(string tid) => $"{EntraDouble.PublicLogin}{tid}/v2.0";

    private static string ExternalIdIssuer(string tid) => $"https://{tid}.ciamlogin.com/{tid}/v2.0";

    private static async Task<HttpResponseMessage> CallMeAsync(TestApp app, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Me);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await app.Client.SendAsync(request);
    }

    [Fact]
    public async Task Multi_tenant_admits_a_user_of_an_allowed_tenant_whose_issuer_names_that_tenant_and_identifies_them_by_oid()
    {
        await using var entra = await EntraDouble.StartAsync();
        var (allowed, alsoAllowed) = (NewTenant(), NewTenant());
        await using var app = await TestApp.StartAsync(entra.Settings("MultiTenant", EntraDouble.PublicLogin, "organizations", alsoAllowed, allowed));
        var oid = Guid.NewGuid().ToString();

        using var response = await CallMeAsync(app, entra.Token(WorkforceIssuer(allowed), allowed, oid));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var me = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(oid, me.GetProperty("userId").GetString());
    }

    [Fact]
    public async Task Multi_tenant_without_an_allow_list_admits_any_organization()
    {
        await using var entra = await EntraDouble.StartAsync();
        await using var app = await TestApp.StartAsync(entra.Settings("MultiTenant", EntraDouble.PublicLogin, "organizations"));
        var tid = NewTenant();

        using var response = await CallMeAsync(app, entra.Token(WorkforceIssuer(tid), tid, Guid.NewGuid().ToString()));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Multi_tenant_refuses_a_token_whose_issuer_names_another_tenant_than_its_tid()
    {
        await using var entra = await EntraDouble.StartAsync();
        var (tid, other) = (NewTenant(), NewTenant());
        await using var app = await TestApp.StartAsync(entra.Settings("MultiTenant", EntraDouble.PublicLogin, "organizations"));

        using var response = await CallMeAsync(app, entra.Token(WorkforceIssuer(other), tid, Guid.NewGuid().ToString()));

        await response.ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "auth.unauthenticated");
    }

    [Fact]
    public async Task Multi_tenant_refuses_a_tenant_that_is_not_on_the_allow_list()
    {
        await using var entra = await EntraDouble.StartAsync();
        var (allowed, stranger) = (NewTenant(), NewTenant());
        await using var app = await TestApp.StartAsync(entra.Settings("MultiTenant", EntraDouble.PublicLogin, "organizations", allowed));

        using var response = await CallMeAsync(app, entra.Token(WorkforceIssuer(stranger), stranger, Guid.NewGuid().ToString()));

        await response.ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "auth.unauthenticated");
    }

    [Fact]
    public async Task External_ID_admits_its_own_tenants_ciamlogin_issuer_and_refuses_a_workforce_issuer()
    {
        await using var entra = await EntraDouble.StartAsync();
        var tenant = NewTenant();
        await using var app = await TestApp.StartAsync(entra.Settings("ExternalId", ExternalIdInstance, tenant));

        using (var accepted = await CallMeAsync(app, entra.Token(ExternalIdIssuer(tenant), tenant, Guid.NewGuid().ToString())))
        {
            Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        }

        using var workforce = await CallMeAsync(app, entra.Token(WorkforceIssuer(tenant), tenant, Guid.NewGuid().ToString()));
        await workforce.ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "auth.unauthenticated");
        var other = NewTenant();
        using var otherTenant = await CallMeAsync(app, entra.Token(ExternalIdIssuer(other), other, Guid.NewGuid().ToString()));
        await otherTenant.ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "auth.unauthenticated");
    }

    [Theory]
    [InlineData("SingleTenant")]
    [InlineData("MultiTenant")]
    public async Task An_External_ID_issuer_is_refused_in_the_workforce_modes(string mode)
    {
        await using var entra = await EntraDouble.StartAsync();
        var tenant = NewTenant();
        await using var app = await TestApp.StartAsync(entra.Settings(mode, EntraDouble.PublicLogin, mode == "MultiTenant" ? "organizations" : tenant));

        using var response = await CallMeAsync(app, entra.Token(ExternalIdIssuer(tenant), tenant, Guid.NewGuid().ToString()));

        await response.ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "auth.unauthenticated");
    }

    [Fact]
    public async Task Single_tenant_admits_only_the_operators_tenant()
    {
        await using var entra = await EntraDouble.StartAsync();
        var (home, other) = (NewTenant(), NewTenant());
        await using var app = await TestApp.StartAsync(entra.Settings("SingleTenant", EntraDouble.PublicLogin, home));

        using (var own = await CallMeAsync(app, entra.Token(WorkforceIssuer(home), home, Guid.NewGuid().ToString())))
        {
            Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        }

        using var foreign = await CallMeAsync(app, entra.Token(WorkforceIssuer(other), other, Guid.NewGuid().ToString()));
        await foreign.ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "auth.unauthenticated");
    }

    [Theory]
    [InlineData("MultiTenant", "https://login.microsoftonline.com/", "common", "")]
    [InlineData("MultiTenant", "https://login.microsoftonline.com/", "11111111-1111-1111-1111-111111111111", "")]
    [InlineData("SingleTenant", "https://login.microsoftonline.com/", "organizations", "")]
    [InlineData("SingleTenant", "https://login.microsoftonline.com/", "11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222")]
    [InlineData("ExternalId", "https://login.microsoftonline.com/", "11111111-1111-1111-1111-111111111111", "")]
    [InlineData("ExternalId", "https://contoso.ciamlogin.com/", "organizations", "")]
    [InlineData("MultiTenant", "https://login.microsoftonline.com/", "organizations", "not-a-tenant-id")]
    public async Task A_sign_in_audience_that_disagrees_with_its_authority_refuses_to_start(string mode, string instance, string tenantId, string allowed)
    {
        var args = new List<string>
        {
            "--urls=http://127.0.0.1:0",
            "--environment=Testing",
            "--AzureWebJobsStorage=UseDevelopmentStorage=true",
            $"--Auth:SignInAudience={mode}",
            $"--AzureAd:Instance={instance}",
            $"--AzureAd:TenantId={tenantId}",
            $"--AzureAd:ClientId={Guid.NewGuid()}",
        };
        if (allowed.Length > 0)
        {
            args.Add($"--Auth:AllowedTenants:0={allowed}");
        }

        await using var app = RaptorFlow.Functions.Program.Build([.. args]);
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());
        Assert.Contains("Auth:", error.Message, StringComparison.Ordinal);
    }
}

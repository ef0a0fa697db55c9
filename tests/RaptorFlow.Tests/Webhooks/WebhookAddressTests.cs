using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.Options;
using RaptorFlow.Functions.Webhooks;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Webhooks;

/// <summary>The SSRF guard, at endpoint creation and again at each delivery.</summary>
public sealed class WebhookAddressTests
{
    private static WebhookAddresses Guard(bool allowPrivate) => new(Options.Create(new WebhookSettings { AllowPrivateNetworks = allowPrivate }));

    [Theory]
    [InlineData("169.254.169.254")]
    [InlineData("fd00:ec2::254")]
    [InlineData("::ffff:169.254.169.254")]
    [InlineData("::169.254.169.254")]
    [InlineData("fe80::1")]
    [InlineData("224.0.0.251")]
    [InlineData("ff02::1")]
    [InlineData("0.0.0.0")]
    [InlineData("::")]
    [InlineData("255.255.255.255")]
    public void Link_local_metadata_multicast_and_unspecified_addresses_are_refused_even_when_private_networks_are_allowed(string address)
    {
        Assert.NotNull(Guard(allowPrivate: true).RefusalOf(IPAddress.Parse(address)));
        Assert.NotNull(Guard(allowPrivate: false).RefusalOf(IPAddress.Parse(address)));
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("::1")]
    [InlineData("::ffff:127.0.0.1")]
    [InlineData("10.1.2.3")]
    [InlineData("::ffff:10.1.2.3")]
    [InlineData("172.16.0.1")]
    [InlineData("192.168.1.1")]
    [InlineData("100.64.0.1")]
    [InlineData("fd12:3456::1")]
    public void Loopback_private_and_cgnat_addresses_are_refused_unless_private_networks_are_allowed(string address)
    {
        Assert.NotNull(Guard(allowPrivate: false).RefusalOf(IPAddress.Parse(address)));
        Assert.Null(Guard(allowPrivate: true).RefusalOf(IPAddress.Parse(address)));
    }

    [Theory]
    [InlineData("93.184.215.14")]
    [InlineData("2606:4700::6810:84e5")]
    [InlineData("::ffff:93.184.215.14")]
    public void Public_addresses_are_allowed(string address) =>
        Assert.Null(Guard(allowPrivate: false).RefusalOf(IPAddress.Parse(address)));

    [Fact]
    public async Task A_host_name_that_resolves_to_loopback_is_refused_when_private_networks_are_not_allowed()
    {
        await Assert.ThrowsAsync<RefusedAddressException>(() => Guard(allowPrivate: false).ResolveAsync("localhost", CancellationToken.None));
        Assert.True(IPAddress.IsLoopback(await Guard(allowPrivate: true).ResolveAsync("localhost", CancellationToken.None)));
    }

    [Fact]
    public async Task Without_private_networks_a_delivery_to_a_name_resolving_to_loopback_is_blocked_before_connecting()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = await TestApp.StartAsync(SignedInUsers.WithDevIssuer(WebhookApp.Settings(allowPrivateNetworks: false)), clock: clock, hostDrivesTriggers: true);
        var (owner, orgId) = await app.NewOrgAsync();

        // Loopback cannot be registered here...
        using (var refused = await owner.Client.PostAsJsonAsync(new Uri($"/api/v1/orgs/{orgId}/webhook-endpoints", UriKind.Relative), new { url = receiver.Url.ToString() }))
        {
            await refused.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "webhook.invalid_url");
        }

        // ...so a name that resolves to it later (as after a DNS change) is put in place directly.
        var endpoint = await owner.CreateEndpointAsync(orgId, new Uri("https://hooks.example.com/x"));
        var deliveries = app.Services.GetRequiredService<WebhookDeliveries>();
        var row = (await deliveries.FindEndpointAsync(orgId, endpoint.Id, CancellationToken.None))!;
        row.Url = $"http://localhost:{receiver.Url.Port}/hook";
        await deliveries.Endpoints.UpdateEntityAsync(row, row.ETag);

        await app.PublishAsync(orgId);
        await app.DrainDeliveriesAsync();

        Assert.Empty(receiver.Received);
        var delivery = await owner.SingleDeliveryAsync(orgId, endpoint.Id);
        Assert.Equal("blocked", delivery.GetProperty("attempts")[0].GetProperty("errorKind").GetString());
    }

    [Fact]
    public async Task The_app_refuses_to_start_in_Azure_with_private_networks_allowed()
    {
        var settings = SignedInUsers.WithDevIssuer(WebhookApp.Settings(allowPrivateNetworks: true));
        settings["Auth:DevIssuer:Enabled"] = "false";
        settings["WEBSITE_SITE_NAME"] = "raptorflow-test";
        (settings["Mail:Provider"], settings["Mail:FromAddress"], settings["Mail:Smtp:Host"]) = ("Smtp", "noreply@raptorflow.test", "127.0.0.1");
        var error = await Assert.ThrowsAnyAsync<Exception>(async () => await (await TestApp.StartAsync(settings, hostDrivesTriggers: true)).DisposeAsync());
        Assert.Contains("Webhooks:AllowPrivateNetworks", error.ToString(), StringComparison.Ordinal);
    }
}

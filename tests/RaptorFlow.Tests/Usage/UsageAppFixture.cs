using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using RaptorFlow.Functions.Usage;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Usage;

/// <summary>
/// The app on a fake clock with its own triggers off, so each test decides when the rollup runs.
/// Time only moves forward; tests move it to the boundary they need.
/// </summary>
public sealed class UsageAppFixture : IAsyncLifetime
{
    private TestApp? _app;

    public FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 11, 23, 10, 0, 0, TimeSpan.Zero));

    public TestApp App => _app ?? throw new InvalidOperationException("The app has not started.");

    public async Task InitializeAsync() =>
        _app = await TestApp.StartAsync(
            SignedInUsers.WithDevIssuer(),
            clock: Clock,
            hostDrivesTriggers: true);

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    /// <summary>Moves the clock forward to <paramref name="at"/> (never back: other tests of the class already used earlier times).</summary>
    public void MoveTo(DateTimeOffset at)
    {
        if (at > Clock.GetUtcNow())
        {
            Clock.SetUtcNow(at);
        }
    }

    /// <summary>The start of the month after the clock's month.</summary>
    public DateTimeOffset NextMonth()
    {
        var now = Clock.GetUtcNow();
        return new DateTimeOffset(now.Year, now.Month, 1, 0, 0, 0, TimeSpan.Zero).AddMonths(1);
    }

    public async Task RollupAsync()
    {
        using var scope = App.Services.CreateScope();
        await scope.ServiceProvider.GetRequiredService<RollupUsage>()
            .RunAsync(new Functions.Hosting.TimerTriggerInfo(false, null, null, Guid.NewGuid().ToString()), CancellationToken.None);
        await App.DrainQueueAsync(RollupOrgUsage.FunctionName);
    }
}

public static class UsageRequests
{
    public static object Event(string id, DateTimeOffset at, long quantity = 1, string meter = "api_calls") =>
        new { id, meter, quantity, timestamp = at.ToString("O") };

    public static async Task<JsonElement> PostEventsAsync(this TestUser user, string orgId, params object[] events)
    {
        using var response = await user.Client.PostAsJsonAsync(new Uri($"/api/v1/orgs/{orgId}/usage-events", UriKind.Relative), new { events });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        return JsonDocument.Parse(body).RootElement;
    }

    public static async Task<JsonElement> GetUsageAsync(this TestUser user, string orgId, string query)
    {
        using var response = await user.Client.GetAsync(new Uri($"/api/v1/orgs/{orgId}/usage?{query}", UriKind.Relative));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        return JsonDocument.Parse(body).RootElement;
    }

    /// <summary>The usage points of one meter as (period start, quantity).</summary>
    public static List<(DateTimeOffset Start, long Quantity)> Points(this JsonElement usage, string meter = Meters.ApiCalls) =>
        [.. usage.GetProperty("data").EnumerateArray()
            .Where(p => p.GetProperty("meter").GetString() == meter)
            .Select(p => (p.GetProperty("periodStart").GetDateTimeOffset(), p.GetProperty("quantity").GetInt64()))];

    public static string Iso(DateTimeOffset at) => Uri.EscapeDataString(at.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture));
}

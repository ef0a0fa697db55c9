using Microsoft.Extensions.Options;
using RaptorFlow.Functions.Mail;
using RaptorFlow.Tests.Fixtures;

namespace RaptorFlow.Tests.Mail;

public sealed class MailSettingsTests
{
    [Fact]
    public async Task The_app_refuses_to_start_in_azure_with_no_mail_provider()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => TestApp.StartAsync(
            new Dictionary<string, string?> { ["WEBSITE_SITE_NAME"] = "func-test", ["Mail:Provider"] = "None" }, hostDrivesTriggers: true));

        Assert.Contains("Mail:Provider", Flatten(error), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Smtp", "Mail:FromAddress")]
    [InlineData("AzureCommunicationServices", "Mail:Acs:Endpoint")]
    public async Task The_app_refuses_to_start_without_what_its_provider_needs(string provider, string missing)
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => TestApp.StartAsync(
            new Dictionary<string, string?> { ["Mail:Provider"] = provider, ["Mail:FromAddress"] = missing == "Mail:FromAddress" ? "" : "noreply@raptorflow.test" },
            hostDrivesTriggers: true));

        Assert.Contains(missing, Flatten(error), StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_no_provider_mail_is_recorded_as_skipped_not_dropped_silently()
    {
        await using var app = await TestApp.StartAsync(new Dictionary<string, string?> { ["Mail:Queue"] = $"mail-outbox-{Guid.NewGuid():N}" }, hostDrivesTriggers: true);
        Assert.Equal(MailProvider.None, app.Services.GetRequiredService<IOptions<MailSettings>>().Value.Provider);
        var mail = MailTestKit.Mail();

        await app.EnqueueAsync(mail);
        await app.DrainQueueAsync(SendEmail.FunctionName);

        Assert.Equal(SentMailState.Skipped, (await app.SentRowAsync(mail))?.State);
    }

    private static string Flatten(Exception error) => error is AggregateException all
        ? string.Join('\n', all.Flatten().InnerExceptions.Select(e => e.Message))
        : error.ToString();
}

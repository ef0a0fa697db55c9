using Microsoft.Extensions.Options;
using RaptorFlow.Functions;

namespace RaptorFlow.Tests.Platform;

public sealed class StartupTests
{
    [Fact]
    public async Task Missing_storage_setting_fails_start_up_naming_the_setting()
    {
        await using var app = Program.Build(["--urls=http://127.0.0.1:0", "--environment=Testing"]);
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => app.StartAsync());
        Assert.Contains("AzureWebJobsStorage", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invalid_setting_fails_start_up_naming_it()
    {
        await using var app = Program.Build([
            "--urls=http://127.0.0.1:0", "--environment=Testing",
            "--AzureWebJobsStorage=UseDevelopmentStorage=true",
            "--Hosting:Standalone:MaxDequeueCount=0",
        ]);
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());
        Assert.Contains("MaxDequeueCount", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Functions_host_port_that_is_not_a_port_fails_start_up()
    {
        var error = Assert.Throws<InvalidOperationException>(() =>
            Program.Build(["--FUNCTIONS_CUSTOMHANDLER_PORT=http", "--AzureWebJobsStorage=UseDevelopmentStorage=true"]));
        Assert.Contains("FUNCTIONS_CUSTOMHANDLER_PORT", error.Message, StringComparison.Ordinal);
        await Task.CompletedTask;
    }
}

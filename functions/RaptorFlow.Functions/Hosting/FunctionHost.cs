namespace RaptorFlow.Functions.Hosting;

/// <summary>
/// How the process is reached: under the Functions host it listens on loopback at
/// <c>FUNCTIONS_CUSTOMHANDLER_PORT</c>; standalone it listens on <c>Hosting:Url</c>
/// (default <c>http://127.0.0.1:7071</c>) unless <c>--urls</c> says otherwise.
/// </summary>
public static class FunctionHost
{
    public const string CustomHandlerPortSetting = "FUNCTIONS_CUSTOMHANDLER_PORT";
    public const string DefaultUrl = "http://127.0.0.1:7071";

    public static bool IsUnderFunctionsHost(IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration[CustomHandlerPortSetting]);

    public static WebApplicationBuilder AddFunctionHost(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var port = configuration[CustomHandlerPortSetting];
        if (!string.IsNullOrWhiteSpace(port))
        {
            if (!int.TryParse(port, out var number) || number is < 1 or > 65535)
            {
                throw new InvalidOperationException($"{CustomHandlerPortSetting} must be a TCP port number, not '{port}'.");
            }

            builder.WebHost.UseUrls($"http://127.0.0.1:{number}");
        }
        else if (string.IsNullOrWhiteSpace(configuration["urls"]))
        {
            builder.WebHost.UseUrls(configuration["Hosting:Url"] ?? DefaultUrl);
        }

        builder.WebHost.ConfigureKestrel(kestrel => kestrel.AddServerHeader = false);
        return builder;
    }
}

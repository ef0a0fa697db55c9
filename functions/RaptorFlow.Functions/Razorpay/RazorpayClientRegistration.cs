using System.Net;
using Microsoft.Extensions.Options;
using Polly;
using RaptorFlow.Functions.Platform.Http;

namespace RaptorFlow.Functions.Razorpay;

public static class RazorpayClientRegistration
{
    public static IServiceCollection AddRazorpayClient(this IServiceCollection services)
    {
        services.AddTransient<RazorpayBasicAuth>();
        services.AddHttpClient<RazorpayClient>((sp, http) =>
            {
                var baseUrl = sp.GetRequiredService<IOptions<RazorpaySettings>>().Value.BaseUrl.ToString();
                http.BaseAddress = new Uri(baseUrl.EndsWith('/') ? baseUrl : baseUrl + "/");
                http.Timeout = Timeout.InfiniteTimeSpan; // the resilience pipeline owns timeouts
            })
            .AddHttpMessageHandler<RazorpayBasicAuth>()
            .AddRestResilience<RazorpaySettings>("razorpay", ShouldRetry);
        return services;
    }

    private static bool ShouldRetry(Outcome<HttpResponseMessage> outcome, ResilienceContext context)
    {
        if (outcome.Result?.StatusCode == HttpStatusCode.TooManyRequests)
        {
            return true;
        }

        var serverError = outcome.Result is { StatusCode: >= HttpStatusCode.InternalServerError }
            || outcome.Exception is HttpRequestException or Polly.Timeout.TimeoutRejectedException;
        var request = context.GetRequestMessage();
        return serverError && request is not null && request.Options.TryGetValue(RazorpayClient.RetryOnServerError, out var retry) && retry;
    }
}

using System.Net.Http.Headers;
using System.Text;
using RaptorFlow.Functions.Platform.Secrets;

namespace RaptorFlow.Functions.Razorpay;

/// <summary>Adds <c>Authorization: Basic keyId:keySecret</c> from the secret store to every call.</summary>
internal sealed class RazorpayBasicAuth(SecretStore secrets) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var keyId = await secrets.GetRequiredAsync(RazorpaySecrets.KeyId, cancellationToken);
        var keySecret = await secrets.GetRequiredAsync(RazorpaySecrets.KeySecret, cancellationToken);
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{keyId}:{keySecret}")));
        return await base.SendAsync(request, cancellationToken);
    }
}

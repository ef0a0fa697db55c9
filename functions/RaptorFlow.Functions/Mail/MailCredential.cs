using Azure.Core;

namespace RaptorFlow.Functions.Mail;

/// <summary>The identity ACS calls are made with (in Azure, the app's managed identity), and its cached token.</summary>
public sealed class MailCredential(TokenCredential credential, TimeProvider time)
{
    private readonly SemaphoreSlim _lock = new(1, 1);
    private AccessToken? _token;

    public async Task<string> TokenAsync(string[] scopes, CancellationToken cancellationToken)
    {
        if (_token is { } cached && cached.ExpiresOn - time.GetUtcNow() > TimeSpan.FromMinutes(5))
        {
            return cached.Token;
        }

        await _lock.WaitAsync(cancellationToken);
        try
        {
            if (_token is not { } current || current.ExpiresOn - time.GetUtcNow() <= TimeSpan.FromMinutes(5))
            {
                _token = await credential.GetTokenAsync(new TokenRequestContext(scopes), cancellationToken);
            }

            return _token.Value.Token;
        }
        finally
        {
            _lock.Release();
        }
    }
}

using System.Net;
using Microsoft.Extensions.Options;
using RaptorFlow.Functions.Platform.Access;

namespace RaptorFlow.Functions.Platform.RateLimiting;

/// <summary>
/// The budgets the platform names: a signed-in user's own and, on an org's routes, all its users'
/// together; and, on an endpoint marked with <see cref="ClientAddressLimit"/>, the client address's.
/// </summary>
public sealed class CallerLimits(IOptions<RateLimitSettings> settings, IEnumerable<IClientAddresses> addresses) : IRequestLimits
{
    private readonly IClientAddresses? _addresses = addresses.LastOrDefault();

    public void Collect(HttpContext context, Caller? caller, OrgAccess? access, List<RequestLimit> limits)
    {
        var values = settings.Value;
        if (caller is { IsUser: true })
        {
            limits.Add(new RequestLimit("user:" + caller.Id, values.UserPerMinute));
            if (access is not null)
            {
                limits.Add(new RequestLimit("org-users:" + access.OrgId, values.UserOrgPerMinute));
            }
        }

        if (context.GetEndpoint()?.Metadata.GetMetadata<ClientAddressLimit>() is { } byAddress)
        {
            var address = _addresses?.Of(context) ?? Peer(context);
            // An address the app cannot tell shares one budget with every other such request.
            limits.Add(new RequestLimit($"address:{byAddress.Name}:{address?.ToString() ?? "unknown"}", byAddress.PerMinute(values)));
        }
    }

    private static IPAddress? Peer(HttpContext context) =>
        context.Connection.RemoteIpAddress is { IsIPv4MappedToIPv6: true } mapped ? mapped.MapToIPv4() : context.Connection.RemoteIpAddress;
}

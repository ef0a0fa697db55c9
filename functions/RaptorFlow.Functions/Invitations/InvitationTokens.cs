using System.Security.Cryptography;
using System.Text;

namespace RaptorFlow.Functions.Invitations;

public static class InvitationTokens
{
    public const string Prefix = "rfinv_";

    public static string New() => Prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
}

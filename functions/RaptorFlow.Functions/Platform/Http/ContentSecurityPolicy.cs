namespace RaptorFlow.Functions.Platform.Http;

/// <summary>
/// Endpoint metadata: the endpoint serves a page and needs its own Content-Security-Policy instead
/// of the API's <c>default-src 'none'</c>; built per response (a page's script nonce changes every time).
/// </summary>
public sealed record ContentSecurityPolicy(Func<HttpContext, string> Build);

using Microsoft.AspNetCore.Http;

namespace ControlPlane.Identity.Tokens;

/// <summary>
/// The issuer (iss) identity puts in tokens and in its discovery document: Identity:Issuer when configured (set
/// it in every real deployment: tokens fetched through an ingress and validated inside the cluster must agree),
/// else the base address of the request, which is fine for a single local address.
/// </summary>
public sealed class IssuerName(IConfiguration configuration, IHttpContextAccessor httpContext)
{
    private readonly string? _configured = configuration["Identity:Issuer"]?.TrimEnd('/');

    public string Current =>
        _configured ?? (httpContext.HttpContext?.Request is { } request
            ? $"{request.Scheme}://{request.Host}{request.PathBase}".TrimEnd('/')
            : throw new InvalidOperationException("Identity:Issuer is not set and there is no request to derive it from."));
}

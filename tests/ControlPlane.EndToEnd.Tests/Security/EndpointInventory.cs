using System.Text.RegularExpressions;
using ControlPlane.ServiceDefaults.Health;
using ControlPlane.ServiceDefaults.Security;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace ControlPlane.EndToEnd.Tests.Security;

/// <summary>One mapped endpoint of one service, with the rule it declares.</summary>
public sealed partial record MappedEndpoint(string Service, string Method, string Pattern, string? Permission, AnonymousByDesign? Anonymous, AuthenticatedByDesign? Authenticated, bool AllowsAnonymous)
{
    public override string ToString() => $"{Service} {Method} {Pattern}";

    /// <summary>A concrete path for the pattern: route values that pass its constraints but name nothing that exists.</summary>
    public string SamplePath() => RouteParameter().Replace(Pattern, m =>
        m.Groups["constraint"].Value.Contains("guid", StringComparison.Ordinal) ? "3f0c2b8e-0000-4000-8000-00000000abcd" : "matrix-sample");

    [GeneratedRegex(@"\{\*{0,2}(?<name>[A-Za-z0-9_]+)(?<constraint>[^}]*)\}")]
    private static partial Regex RouteParameter();
}

public static partial class EndpointInventory
{
    /// <summary>Every route endpoint every running service maps, as the routing system sees it.</summary>
    public static IReadOnlyList<MappedEndpoint> Of(IReadOnlyDictionary<string, IServiceProvider> services) =>
    [
        .. services.SelectMany(service => service.Value.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .SelectMany(e => (e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["GET"]).Select(method => new MappedEndpoint(
                service.Key,
                method,
                "/" + (e.RoutePattern.RawText ?? string.Empty).TrimStart('/'),
                e.Metadata.GetMetadata<RequiresPermission>()?.Permission,
                e.Metadata.GetMetadata<AnonymousByDesign>(),
                e.Metadata.GetMetadata<AuthenticatedByDesign>(),
                e.Metadata.GetMetadata<IAllowAnonymous>() is not null)))),
    ];
}

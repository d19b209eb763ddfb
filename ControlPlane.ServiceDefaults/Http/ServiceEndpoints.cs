using Microsoft.Extensions.Configuration;

namespace ControlPlane.ServiceDefaults.Http;

/// <summary>
/// Where another service lives, read from the keys Aspire injects (services__name__http__0); every launcher
/// (AppHost, run.sh, Kubernetes manifests) sets the same keys, so there is no other discovery mechanism.
/// </summary>
public static class ServiceEndpoints
{
    public static Uri? TryResolve(IConfiguration configuration, string serviceName)
    {
        var value = configuration[$"services:{serviceName}:https:0"] ?? configuration[$"services:{serviceName}:http:0"];
        return string.IsNullOrWhiteSpace(value) ? null : new Uri(value.TrimEnd('/') + "/");
    }

    public static Uri Resolve(IConfiguration configuration, string serviceName) =>
        TryResolve(configuration, serviceName) ?? throw new InvalidOperationException(
            $"The address of service '{serviceName}' is not configured. Set services__{serviceName}__http__0 " +
            $"(the AppHost and ./run.sh set it; e.g. services__{serviceName}__http__0=http://127.0.0.1:5101).");
}

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Http.Resilience;
using Polly;

namespace ControlPlane.ServiceDefaults.Http;

public static class HttpClientExtensions
{
    /// <summary>The header that makes a POST safe to repeat: the receiver deduplicates on it.</summary>
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    /// <summary>
    /// Every HttpClient made by the factory gets the standard resilience pipeline (total timeout, retry, circuit
    /// breaker, attempt timeout) and service discovery (http://name resolves through services:name:http:0).
    /// </summary>
    public static TBuilder AddServiceHttpClientDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddServiceDiscovery();
        builder.Services.ConfigureHttpClientDefaults(http => http.AddControlPlaneResilience().AddServiceDiscovery());
        return builder;
    }

    /// <summary>
    /// The standard pipeline, retrying only what may be repeated: RFC 9110 idempotent methods, and a POST only when
    /// the caller made it idempotent with a key. A retried POST without one could run a change twice.
    /// </summary>
    public static IHttpClientBuilder AddControlPlaneResilience(this IHttpClientBuilder http)
    {
        http.AddStandardResilienceHandler(options =>
        {
            options.Retry.Delay = TimeSpan.FromMilliseconds(200);
            var transient = options.Retry.ShouldHandle;
            options.Retry.ShouldHandle = async args =>
                args.Context.GetRequestMessage() is { } request && CanRetry(request) && await transient(args);
        });
        return http;
    }

    /// <summary>A named client (the service name) whose base address service discovery resolves.</summary>
    public static IHttpClientBuilder AddServiceClient(this IServiceCollection services, string serviceName) =>
        services.AddHttpClient(serviceName, client => client.BaseAddress = new Uri($"https+http://{serviceName}/"));

    public static bool CanRetry(HttpRequestMessage request) =>
        request.Method == HttpMethod.Get || request.Method == HttpMethod.Head || request.Method == HttpMethod.Options ||
        request.Method == HttpMethod.Put || request.Method == HttpMethod.Delete ||
        request.Headers.Contains(IdempotencyKeyHeader);
}

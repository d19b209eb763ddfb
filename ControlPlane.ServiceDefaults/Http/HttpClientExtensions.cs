using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace ControlPlane.ServiceDefaults.Http;

public static class HttpClientExtensions
{
    /// <summary>Every HttpClient made by the factory gets the resilience pipeline.</summary>
    public static TBuilder AddServiceHttpClientDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.TryAddSingleton(new ResiliencePipelines());
        builder.Services.AddTransient<ResilienceHandler>();
        builder.Services.ConfigureHttpClientDefaults(http => http.AddHttpMessageHandler<ResilienceHandler>());
        return builder;
    }

    /// <summary>A named client (the service name) whose base address comes from services:&lt;name&gt;:http:0.</summary>
    public static IHttpClientBuilder AddServiceClient(this IServiceCollection services, string serviceName) =>
        services.AddHttpClient(serviceName, (sp, client) =>
            client.BaseAddress = ServiceEndpoints.Resolve(sp.GetRequiredService<IConfiguration>(), serviceName));
}

using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace ControlPlane.ServiceDefaults.Http;

public static class BadRequestHandling
{
    /// <summary>Default cap on a request body (Http:MaxRequestBodyBytes): every body the plane accepts is a few KB.</summary>
    public const long DefaultMaxRequestBodyBytes = 1024 * 1024;

    /// <summary>
    /// Bad input is a 4xx problem in every environment: binding failures throw (also outside Development) so
    /// <see cref="BadRequestExceptionHandler"/> answers them with a problem body that says what was wrong, and
    /// Kestrel refuses bodies over the cap with 413 before anyone buffers them.
    /// </summary>
    public static TBuilder AddBadRequestHandling<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        var cap = builder.Configuration.GetValue("Http:MaxRequestBodyBytes", DefaultMaxRequestBodyBytes);
        builder.Services.AddExceptionHandler<BadRequestExceptionHandler>();
        builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        builder.Services.Configure<KestrelServerOptions>(o => o.Limits.MaxRequestBodySize = cap);
        return builder;
    }
}

using ControlPlane.Contracts;
using ControlPlane.ServiceDefaults.Health;
using ControlPlane.ServiceDefaults.Http;
using ControlPlane.ServiceDefaults.Security;
using ControlPlane.ServiceDefaults.Telemetry;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// The one way every ControlPlane service is wired: telemetry, health, resilient HTTP clients, problem
/// details and bearer-token security. Bus, database and cache are added per service because not every
/// service uses all three (see <c>AddControlPlaneBus</c>, <c>AddServiceDatabase</c>, <c>AddRedisCache</c>).
/// </summary>
public static class ServiceDefaultsExtensions
{
    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.ConfigureOpenTelemetry();
        builder.AddDefaultHealthChecks();
        builder.AddServiceHttpClientDefaults();
        builder.AddControlPlaneSecurity();
        builder.Services.AddProblemDetails(ProblemDetailsDefaults.Configure);
        builder.AddBadRequestHandling();
        builder.Services.AddExceptionHandler<TransientFaultExceptionHandler>(); // a passing outage is a 503, not a 500
        builder.Services.ConfigureHttpJsonOptions(o => ContractJson.Configure(o.SerializerOptions));
        builder.Services.AddOpenApi();
        return builder;
    }

    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapHealthEndpoints();
        // The API description names every route and schema: any authenticated caller may read it, nobody else.
        app.MapOpenApi().RequireAuthorization().WithMetadata(new AuthenticatedByDesign("OpenAPI description of this service"));
        return app;
    }
}

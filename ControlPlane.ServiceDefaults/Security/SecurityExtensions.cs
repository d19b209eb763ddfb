using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace ControlPlane.ServiceDefaults.Security;

public static class SecurityExtensions
{
    /// <summary>
    /// Bearer authentication for every request and a fallback policy that requires an authenticated caller, so an
    /// endpoint that forgot its rule is closed rather than open. Endpoints then name their permission.
    /// </summary>
    public static TBuilder AddControlPlaneSecurity<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddHttpClient("identity-discovery");
        builder.Services.TryAddSingleton<ITokenIssuerMetadata, DiscoveryIssuerMetadata>();
        builder.Services.TryAddSingleton<RevocationList>();
        builder.Services.TryAddSingleton<IPrincipalRevocations>(sp => sp.GetRequiredService<RevocationList>());
        builder.Services.TryAddSingleton<AccessTokenValidator>();
        builder.Services.TryAddSingleton<BearerEvents>();
        builder.Services.AddAuthentication(BearerAuthentication.SchemeName).AddJwtBearer(BearerAuthentication.SchemeName);
        builder.Services.AddOptions<JwtBearerOptions>(BearerAuthentication.SchemeName).Configure<AccessTokenValidator>(BearerAuthentication.Configure);
        builder.Services.AddSingleton<IAuthorizationHandler, PermissionHandler>();
        builder.Services.AddHostedService<SecurityConfigurationCheck>();
        builder.Services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build());
        return builder;
    }
}

/// <summary>The permission an endpoint requires; read by the authorization handler and by the endpoint audit test.</summary>
public sealed record RequiresPermission(string Permission) : IAuthorizationRequirement;

public static class EndpointSecurityExtensions
{
    public static TBuilder RequirePermission<TBuilder>(this TBuilder endpoint, string permission) where TBuilder : IEndpointConventionBuilder
    {
        var requirement = new RequiresPermission(permission);
        return endpoint
            .RequireAuthorization(new AuthorizationPolicyBuilder(BearerAuthentication.SchemeName).AddRequirements(requirement).Build())
            .WithMetadata(requirement);
    }

    /// <summary>The caller of the current request; only call inside endpoints that require a permission.</summary>
    public static Caller GetCaller(this HttpContext context) =>
        Caller.From(context.User) ?? throw new InvalidOperationException("No authenticated caller on this request.");
}

internal sealed class PermissionHandler : AuthorizationHandler<RequiresPermission>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, RequiresPermission requirement)
    {
        if (Caller.From(context.User) is { } caller && caller.HasPermission(requirement.Permission))
        {
            context.Succeed(requirement);
        }

        return Task.CompletedTask;
    }
}

/// <summary>Marks an endpoint open to any authenticated principal on purpose (e.g. "who am I"); the endpoint audit test reads it.</summary>
public sealed record AuthenticatedByDesign(string Reason);

/// <summary>Fails the start, with the fix in the message, when the service could not validate any token.</summary>
internal sealed class SecurityConfigurationCheck(IServiceProvider services) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _ = services.GetRequiredService<ITokenIssuerMetadata>();
        _ = services.GetRequiredService<AccessTokenValidator>().Audience;
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

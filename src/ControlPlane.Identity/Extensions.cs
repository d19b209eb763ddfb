using ControlPlane.Identity.Authorization;
using ControlPlane.Identity.Credentials;
using ControlPlane.Identity.ExternalIdp;
using ControlPlane.Identity.Keys;
using ControlPlane.Identity.Principals;
using ControlPlane.Identity.Seeding;
using ControlPlane.Identity.Tokens;
using ControlPlane.ServiceDefaults.Caching;
using ControlPlane.ServiceDefaults.Data;
using ControlPlane.ServiceDefaults.Messaging;
using ControlPlane.ServiceDefaults.Security;
using ControlPlane.ServiceDefaults.Security.RateLimiting;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ControlPlane.Identity;

internal static class Extensions
{
    public const string DatabaseName = "identity-db";

    public static void AddApplicationServices(this WebApplicationBuilder builder)
    {
        builder.AddServiceDatabase(DatabaseName, typeof(Extensions).Assembly);
        builder.AddControlPlaneBus();
        builder.AddOutboxRelay();
        builder.AddRedisCache();
        builder.AddRedisRateLimiter();

        // Settings are read now, so a bad value fails the start rather than the first request.
        builder.Services.AddSingleton(TokenSettings.FromConfiguration(builder.Configuration));
        builder.Services.AddSingleton(LockoutSettings.FromConfiguration(builder.Configuration));
        builder.Services.AddSingleton(TokenRateLimits.FromConfiguration(builder.Configuration));
        builder.Services.AddSingleton(ExternalIdpSettings.FromConfiguration(builder.Configuration));
        builder.Services.AddSingleton(KeyProtector.FromConfiguration(builder.Configuration, builder.Environment, "Identity:KeyEncryptionKey", "identity-signing-keys"));

        builder.Services.AddHttpContextAccessor();
        builder.Services.AddHttpClient("external-idp");
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<SigningKeyStore>();
        builder.Services.AddSingleton<IssuerName>();
        builder.Services.AddSingleton<TokenIssuer>();
        builder.Services.AddSingleton<PrincipalStore>();
        builder.Services.AddSingleton<PrincipalWriter>();
        builder.Services.AddSingleton<CredentialLockout>();
        builder.Services.AddSingleton<AssertionReplayCache>();
        builder.Services.AddSingleton<ClientAssertionValidator>();
        builder.Services.AddSingleton<ExternalIdentityProvider>();
        builder.Services.AddSingleton<TokenEndpoint>();
        builder.Services.AddSingleton(OidcClients.FromConfiguration(builder.Configuration));
        builder.Services.AddSingleton<AuthorizationCodeStore>();
        builder.Services.AddSingleton<SessionEvents>();
        builder.Services.AddSingleton<InteractiveGrants>();
        builder.Services.AddSingleton<ExternalAuthorization>();
        builder.Services.AddSingleton<EndSession>();
        builder.Services.AddAntiforgery(o =>
        {
            o.Cookie.Name = "cp-identity-af";
            o.Cookie.SecurePolicy = builder.Environment.IsDevelopment() ? CookieSecurePolicy.SameAsRequest : CookieSecurePolicy.Always;
        });
        builder.Services.Replace(ServiceDescriptor.Singleton<ITokenIssuerMetadata, LocalIssuerMetadata>());
        builder.Services.AddHostedService<IdentityStartup>();
        builder.Services.AddHostedService<KeyRotationService>();
    }
}

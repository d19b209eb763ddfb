using ControlPlane.Identity.Keys;
using ControlPlane.Identity.Principals;
using ControlPlane.Identity.Seeding;
using ControlPlane.Identity.Tokens;
using ControlPlane.ServiceDefaults.Data;
using ControlPlane.ServiceDefaults.Messaging;
using ControlPlane.ServiceDefaults.Security;
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

        builder.Services.AddHttpContextAccessor();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(KeyProtector.FromConfiguration(builder.Configuration, builder.Environment, "Identity:KeyEncryptionKey", "identity-signing-keys"));
        builder.Services.AddSingleton<SigningKeyStore>();
        builder.Services.AddSingleton<IssuerName>();
        builder.Services.AddSingleton<TokenIssuer>();
        builder.Services.AddSingleton<PrincipalStore>();
        builder.Services.Replace(ServiceDescriptor.Singleton<ITokenIssuerMetadata, LocalIssuerMetadata>());
        builder.Services.AddHostedService<IdentityStartup>();
    }
}

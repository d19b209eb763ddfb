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
        builder.Services.AddSingleton(new KeyProtector(KeyEncryptionKey(builder)));
        builder.Services.AddSingleton<SigningKeyStore>();
        builder.Services.AddSingleton<IssuerName>();
        builder.Services.AddSingleton<TokenIssuer>();
        builder.Services.AddSingleton<PrincipalStore>();
        builder.Services.Replace(ServiceDescriptor.Singleton<ITokenIssuerMetadata, LocalIssuerMetadata>());
        builder.Services.AddHostedService<IdentityStartup>();
    }

    /// <summary>Required outside Development; a fixed development key otherwise, with a loud name so nobody ships it.</summary>
    private static string KeyEncryptionKey(WebApplicationBuilder builder) =>
        builder.Configuration["Identity:KeyEncryptionKey"] is { Length: > 0 } kek
            ? kek
            : builder.Environment.IsDevelopment()
                ? "development-only-key-encryption-key-do-not-use-in-production"
                : throw new InvalidOperationException(
                    "Identity:KeyEncryptionKey is not set. Provide a secret of at least 16 characters (a Kubernetes secret or an Aspire secret parameter).");
}

using ControlPlane.ServiceDefaults.Security;

namespace ControlPlane.Orchestrator.AgentNotifications;

public static class AgentNotificationsExtensions
{
    /// <summary>Agent webhooks: secrets under the key-encryption key, and the dispatcher.</summary>
    public static void AddAgentNotifications(this WebApplicationBuilder builder)
    {
        builder.Services.Configure<AgentWebhookOptions>(builder.Configuration.GetSection(AgentWebhookOptions.Section));
        builder.Services.AddSingleton(new AgentWebhookSecrets(KeyProtector.FromConfiguration(builder.Configuration, builder.Environment,
            AgentWebhookOptions.KeyEncryptionKey, "agent-webhook-secrets")));
        builder.Services.AddHostedService<WebhookDispatcher>();
    }
}

namespace ControlPlane.Orchestrator.AgentNotifications;

/// <summary>Configuration section "Orchestrator:Webhooks" (agent webhooks; see the orchestrator README).</summary>
public sealed class AgentWebhookOptions
{
    public const string Section = "Orchestrator:Webhooks";

    /// <summary>Where the key-encryption key for webhook secrets is configured (required outside Development).</summary>
    public const string KeyEncryptionKey = "Orchestrator:KeyEncryptionKey";

    /// <summary>How often an idle dispatcher looks for due deliveries.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How long one POST may take before it counts as a network failure.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Deliveries sent at once by one replica (each holds a row lock while it posts).</summary>
    public int Workers { get; set; } = 2;

    public TimeSpan FirstRetryDelay { get; set; } = TimeSpan.FromSeconds(5);

    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>A delivery not accepted this long after the state change is given up and recorded as failed.</summary>
    public TimeSpan GiveUpAfter { get; set; } = TimeSpan.FromDays(1);

    /// <summary>Deliver to loopback and private addresses too (always so in Development). Off: an agent cannot point the
    /// plane at hosts inside its own network.</summary>
    public bool AllowPrivateNetworks { get; set; }

    /// <summary>Orchestrator's public address for the link in each delivery (empty: the link is the path /proposals/{id}).</summary>
    public string? PublicBaseUrl { get; set; }

    public WebhookRetryPolicy RetryPolicy => new(FirstRetryDelay, MaxRetryDelay, GiveUpAfter);
}

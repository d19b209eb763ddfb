namespace ControlPlane.Client;

/// <summary>Where the plane is and who the agent is. The secret is used only in the token request, never logged.</summary>
public sealed class ControlPlaneClientOptions
{
    /// <summary>identity's base address (its /connect/token issues the agent's tokens), e.g. http://127.0.0.1:5101.</summary>
    public required Uri Identity { get; init; }

    /// <summary>orchestrator's base address (proposals), e.g. http://127.0.0.1:5104.</summary>
    public required Uri Orchestrator { get; init; }

    /// <summary>The agent's client id, e.g. remediation-agent.</summary>
    public required string ClientId { get; init; }

    public required string ClientSecret { get; init; }

    /// <summary>A token is renewed this long before it expires, so a request never leaves with a token about to lapse.</summary>
    public TimeSpan RefreshBefore { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How often <see cref="ControlPlaneClient.WatchAsync(Guid, Func{Proposal, bool}, TimeSpan?, CancellationToken)"/> polls.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Attempts for a proposal when the network or a gateway fails: safe, because the idempotency key makes a repeat the same proposal.</summary>
    public int SubmitAttempts { get; init; } = 3;

    /// <summary>Reads CONTROLPLANE_IDENTITY_URL, CONTROLPLANE_ORCHESTRATOR_URL, CONTROLPLANE_CLIENT_ID and CONTROLPLANE_CLIENT_SECRET.</summary>
    public static ControlPlaneClientOptions FromEnvironment()
    {
        static string Required(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"Set {name}.");

        return new ControlPlaneClientOptions
        {
            Identity = new Uri(Required("CONTROLPLANE_IDENTITY_URL")),
            Orchestrator = new Uri(Required("CONTROLPLANE_ORCHESTRATOR_URL")),
            ClientId = Required("CONTROLPLANE_CLIENT_ID"),
            ClientSecret = Required("CONTROLPLANE_CLIENT_SECRET"),
        };
    }
}

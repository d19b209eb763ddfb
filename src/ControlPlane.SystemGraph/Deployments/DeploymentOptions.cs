using ControlPlane.SystemGraph.Graph;

namespace ControlPlane.SystemGraph.Deployments;

/// <summary>
/// Deployments (configuration section "Deployments"). A source without a secret refuses every delivery (fail
/// closed). Secrets are read here and nowhere logged.
/// </summary>
public sealed class DeploymentOptions
{
    public const string Section = "Deployments";

    public GitHubWebhookOptions GitHub { get; set; } = new();

    public ArgoCdWebhookOptions ArgoCd { get; set; } = new();

    /// <summary>A CI/CD environment name → the plane's environment ("prod" → "production"); unlisted names are used lowercased as they are.</summary>
    public Dictionary<string, string> Environments { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>How far a signed timestamp may be from now (Argo CD deliveries).</summary>
    public TimeSpan ReplayWindow { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How close to a governed change's execution a deployment must be to count as that change.</summary>
    public TimeSpan GovernedWindow { get; set; } = TimeSpan.FromMinutes(30);

    public string Environment(string reported) =>
        Environments.TryGetValue(reported, out var mapped) ? mapped : reported.Trim().ToLowerInvariant();
}

public sealed class GitHubWebhookOptions
{
    /// <summary>The webhook secret set on the GitHub repository or organization webhook.</summary>
    public string? Secret { get; set; }

    /// <summary>"owner/name" → node id, for repositories whose name is not the node id.</summary>
    public Dictionary<string, string> Repositories { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Workflow name or path → environment: the workflows whose completed runs are deployments.</summary>
    public Dictionary<string, string> Workflows { get; set; } = new(StringComparer.Ordinal);
}

public sealed class ArgoCdWebhookOptions
{
    /// <summary>The HMAC key of X-ControlPlane-Signature on Argo CD notification deliveries.</summary>
    public string? Secret { get; set; }

    /// <summary>Argo CD application name → node id, for applications whose name is not the node id.</summary>
    public Dictionary<string, string> Applications { get; set; } = new(StringComparer.OrdinalIgnoreCase);
}

/// <summary>Which graph node a reported deployment is: the configured mapping, else the repository or application name itself.</summary>
public static class DeploymentMapping
{
    public static string? NodeFor(DeploymentEvent deployment, DeploymentOptions options, Func<string, bool> nodeExists)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(nodeExists);
        var (map, conventional) = deployment.Source == DeploymentPayloads.GitHubSource
            ? (options.GitHub.Repositories, deployment.Subject[(deployment.Subject.LastIndexOf('/') + 1)..])
            : (options.ArgoCd.Applications, deployment.Subject);
        var id = map.TryGetValue(deployment.Subject, out var mapped) ? mapped : conventional.ToLowerInvariant();
        return GraphVocabulary.IsSlug(id) && nodeExists(id) ? id : null;
    }
}

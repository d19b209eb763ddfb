namespace ControlPlane.Orchestrator.Integrations.GitHub;

/// <summary>
/// Configuration section "Integrations:GitHub". Without a token the integration is off: proposals that name a
/// commit get no status, and nothing else changes. The token is a secret: set it from the environment
/// (Integrations__GitHub__Token), never in a file, and it is never logged.
/// </summary>
public sealed class GitHubOptions
{
    public const string Section = "Integrations:GitHub";

    /// <summary>The REST API root: https://api.github.com, or https://HOST/api/v3 for GitHub Enterprise Server.</summary>
    public Uri ApiBaseUrl { get; set; } = new("https://api.github.com/");

    /// <summary>A token allowed to write commit statuses (classic: repo:status; fine-grained: "Commit statuses" write).</summary>
    public string? Token { get; set; }

    /// <summary>The status context: one line per context on the commit, replaced as the proposal moves on.</summary>
    public string Context { get; set; } = "controlplane/governance";

    /// <summary>Where the status links to: "{id}" becomes the proposal id (e.g. the console's proposal page); none when empty.</summary>
    public string? ProposalUrl { get; set; }

    public bool Enabled => !string.IsNullOrWhiteSpace(Token);
}

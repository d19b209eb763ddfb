using ControlPlane.Contracts;
using ControlPlane.Orchestrator.Data;

namespace ControlPlane.Orchestrator.Integrations.GitHub;

/// <summary>The body of POST /repos/{owner}/{repo}/statuses/{sha}, as GitHub's REST documentation names its fields.</summary>
public sealed record CommitStatusBody(string State, string? TargetUrl, string Description, string Context);

/// <summary>Which commit status a proposal's state is: pending while it is under way, then success, failure or error.</summary>
public static class CommitStatus
{
    /// <summary>GitHub keeps at most 140 characters of a status description.</summary>
    public const int MaxDescription = 140;

    public static string StateOf(ProposalState state) => state switch
    {
        ProposalState.Completed => "success",
        ProposalState.Denied or ProposalState.Rejected or ProposalState.Failed => "failure",
        ProposalState.Expired or ProposalState.Cancelled => "error",
        _ => "pending",
    };

    public static CommitStatusBody For(Guid proposalId, ProposalState state, string? reason, GitHubOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var description = $"{StateNames.Of(state)}{(string.IsNullOrWhiteSpace(reason) ? string.Empty : ": " + reason.Trim())}";
        if (description.Length > MaxDescription)
        {
            description = description[..(MaxDescription - 1)] + "…";
        }

        var target = string.IsNullOrWhiteSpace(options.ProposalUrl)
            ? null
            : options.ProposalUrl.Replace("{id}", proposalId.ToString(), StringComparison.Ordinal);
        return new CommitStatusBody(StateOf(state), target, description, options.Context);
    }
}

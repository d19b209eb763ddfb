using ControlPlane.Contracts;
using ControlPlane.Orchestrator.Data;
using ControlPlane.ServiceDefaults.Data;
using MassTransit;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ControlPlane.Orchestrator.Integrations.GitHub;

/// <summary>
/// Reports a proposal that names a repository and commit on that commit as a GitHub status, each time its state
/// changes. It posts the proposal's current state (read from orchestrator-db), not the event's, so a late or
/// redelivered event repeats the latest status instead of moving the commit back to an older one; the endpoint
/// takes one message at a time for the same reason.
/// </summary>
public sealed partial class CommitStatusConsumer(
    NpgsqlDataSource dataSource, GitHubStatusClient github, IOptionsMonitor<GitHubOptions> options, ILogger<CommitStatusConsumer> logger)
    : IConsumer<ProposalStateChanged>
{
    public const string Queue = "orchestrator-github-commit-status";

    public async Task Consume(ConsumeContext<ProposalStateChanged> context)
    {
        var settings = options.CurrentValue;
        if (!settings.Enabled)
        {
            return;
        }

        var change = context.Message;
        Proposals.ProposalRecord? proposal;
        await using (var work = await UnitOfWork.BeginAsync(dataSource, context.CancellationToken))
        {
            proposal = await ProposalStore.LoadAsync(work, change.ProposalId, context.CancellationToken);
        }

        if (proposal is not { Change: { Repository: { } repository, Commit: { } commit } })
        {
            return;
        }

        var reason = proposal.State == change.To ? change.Reason : null;
        var body = CommitStatus.For(proposal.Id, proposal.State, reason, settings);
        await github.CreateStatusAsync(repository, commit, body, context.CancellationToken);
        LogPosted(logger, proposal.Id, repository, commit, body.State);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Proposal {ProposalId}: commit status {State} on {Repository}@{Commit}")]
    private static partial void LogPosted(ILogger logger, Guid proposalId, string repository, string commit, string state);
}

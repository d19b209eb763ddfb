using System.Diagnostics;
using System.Diagnostics.Metrics;
using ControlPlane.Contracts;
using ControlPlane.Policy.Bundles;
using ControlPlane.Policy.Data;
using ControlPlane.ServiceDefaults.Data;
using ControlPlane.ServiceDefaults.Messaging;
using ControlPlane.ServiceDefaults.Telemetry;
using MassTransit;
using Npgsql;

namespace ControlPlane.Policy.Consumers;

/// <summary>
/// Decides every assessed proposal with the active bundle and answers with <see cref="PolicyDecided"/>. The inbox
/// row, the stored decision and the outgoing message commit together, so a redelivery decides nothing twice.
/// </summary>
public sealed partial class ImpactAssessedConsumer(
    NpgsqlDataSource dataSource, ActivePolicyCache policies, TrackRecordStore trackRecord, TimeProvider time, ILogger<ImpactAssessedConsumer> logger)
    : IConsumer<ImpactAssessed>
{
    /// <summary>The queue; named for this service so another service's ImpactAssessed consumer never competes for it.</summary>
    public const string Queue = "policy-impact-assessed";
    private const string InboxName = "policy.impact-assessed";

    private static readonly ActivitySource Source = ControlPlaneTelemetry.CreateSource("Policy");
    private static readonly Meter Meter = new(ControlPlaneTelemetry.SourcePrefix + "Policy");
    private static readonly Counter<long> Decisions = Meter.CreateCounter<long>("controlplane.policy.decisions", "{decision}", "Policy decisions by outcome and environment");

    public async Task Consume(ConsumeContext<ImpactAssessed> context)
    {
        var messageId = context.MessageId ?? throw new MessageRejectedException("ImpactAssessed without a MessageId cannot be deduplicated.");
        var message = context.Message;
        if (message.Proposal?.Action is null || message.Impact is null || string.IsNullOrEmpty(message.Proposal.Environment))
        {
            throw new MessageRejectedException($"ImpactAssessed {message.ProposalId} lacks the proposal, its action, its environment or the impact.");
        }

        using var activity = Source.StartActivity("decide");
        activity?.SetTag("controlplane.proposal_id", message.ProposalId);
        var active = await policies.GetAsync(context.CancellationToken);
        var now = time.GetUtcNow();
        var facts = PolicyFacts.From(message.Proposal, message.Impact);
        // The agent's verified record for this action kind and environment, counted in each window the rules use.
        facts = facts with
        {
            TrackRecord = await trackRecord.FactsAsync(facts.AgentId, facts.ActionKind, facts.Environment, active?.Policy.TrackRecordWindows ?? [], now, context.CancellationToken),
        };
        var decision = PolicyEvaluator.Decide(active?.Policy, facts, now);
        activity?.SetTag("controlplane.decision", decision.Outcome.ToString());

        await using var work = await UnitOfWork.BeginAsync(dataSource, context.CancellationToken);
        if (!await work.AcceptOnceAsync(InboxName, messageId, context.CancellationToken))
        {
            LogDuplicate(logger, messageId, message.ProposalId);
            return;
        }

        PolicyStore.RecordDecision(work, message.ProposalId, message.Proposal.ContentHash, message.Impact.GraphVersion, decision);
        await work.EnqueueAsync(new PolicyDecided(message.ProposalId, message.Proposal.ContentHash, message.Impact.GraphVersion, decision), context.CancellationToken);
        await work.CommitAsync(context.CancellationToken);
        Decisions.Add(1, new KeyValuePair<string, object?>("outcome", decision.Outcome.ToString()),
            new KeyValuePair<string, object?>("environment", message.Proposal.Environment));
        LogDecided(logger, message.ProposalId, decision.Outcome, string.Join(",", decision.RulesFired), decision.BundleHash);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Decided proposal {ProposalId}: {Outcome} by rules [{Rules}] of bundle {BundleHash}")]
    private static partial void LogDecided(ILogger logger, Guid proposalId, DecisionOutcome outcome, string rules, string bundleHash);

    [LoggerMessage(Level = LogLevel.Information, Message = "ImpactAssessed {MessageId} for {ProposalId} was already decided; ignored")]
    private static partial void LogDuplicate(ILogger logger, Guid messageId, Guid proposalId);
}

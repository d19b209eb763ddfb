using System.Diagnostics;
using System.Diagnostics.Metrics;
using ControlPlane.Contracts;
using ControlPlane.ServiceDefaults.Data;
using ControlPlane.ServiceDefaults.Messaging;
using ControlPlane.ServiceDefaults.Telemetry;
using ControlPlane.SystemGraph.Data;
using ControlPlane.SystemGraph.Deployments;
using ControlPlane.SystemGraph.Graph;
using MassTransit;
using Npgsql;

namespace ControlPlane.SystemGraph.Consumers;

/// <summary>
/// Assesses every submitted proposal against the current graph version and answers with
/// <see cref="ImpactAssessed"/> (with open deployment drift on the targets). The inbox row, the stored assessment and the outgoing message commit together,
/// so a redelivered ProposalSubmitted has no second effect.
/// </summary>
public sealed partial class ProposalSubmittedConsumer(
    NpgsqlDataSource dataSource, GraphSnapshotCache graph, TimeProvider time, ILogger<ProposalSubmittedConsumer> logger)
    : IConsumer<ProposalSubmitted>
{
    /// <summary>The queue; named for this service so another service's ProposalSubmitted consumer never competes for it.</summary>
    public const string Queue = "system-graph-proposal-submitted";
    private const string InboxName = "system-graph.proposal-submitted";

    private static readonly ActivitySource Source = ControlPlaneTelemetry.CreateSource("SystemGraph");
    private static readonly Meter Meter = new(ControlPlaneTelemetry.SourcePrefix + "SystemGraph");
    private static readonly Counter<long> Assessments = Meter.CreateCounter<long>("controlplane.graph.assessments", "{assessment}", "Impact assessments of proposals");

    public async Task Consume(ConsumeContext<ProposalSubmitted> context)
    {
        var messageId = context.MessageId ?? throw new MessageRejectedException("ProposalSubmitted without a MessageId cannot be deduplicated.");
        var proposal = context.Message;
        if (proposal.Targets is null)
        {
            throw new MessageRejectedException($"ProposalSubmitted {proposal.ProposalId} has no targets list.");
        }

        using var activity = Source.StartActivity("assess impact");
        activity?.SetTag("controlplane.proposal_id", proposal.ProposalId);
        while (await TryAssessAsync(context, messageId, activity) is { } newerHead)
        {
            // Rebuilding the snapshot reads the whole graph on a connection of its own: never while a unit of work
            // holds another (assessments waiting on one rebuild could otherwise take the whole pool), so the unit of
            // work that found the graph moved is rolled back and starts over.
            await graph.GetAsync(newerHead, context.CancellationToken);
        }
    }

    /// <summary>Assesses and commits; null when done (or a redelivery), else the newer head version the snapshot lacks.</summary>
    private async Task<long?> TryAssessAsync(ConsumeContext<ProposalSubmitted> context, Guid messageId, Activity? activity)
    {
        var proposal = context.Message;
        await using var work = await UnitOfWork.BeginAsync(dataSource, context.CancellationToken);
        // The inbox, the graph's head version and the targets' open drift in one round trip. Drift is a fact of the
        // deployments, not of the graph version: read in the same transaction as the assessment.
        long head;
        IReadOnlyList<OpenDrift> drift;
        await using (var reads = await work.AcceptOnceAndReadAsync(InboxName, messageId,
            [new NpgsqlBatchCommand(GraphStore.HeadVersionSql), DeploymentStore.OpenDriftQuery(proposal.Targets, proposal.Environment)],
            context.CancellationToken))
        {
            if (reads is null)
            {
                LogDuplicate(logger, messageId, proposal.ProposalId);
                return null;
            }

            head = await reads.ReadAsync(context.CancellationToken) ? reads.GetInt64(0) : 0;
            await reads.NextResultAsync(context.CancellationToken);
            drift = await DeploymentStore.ReadOpenDriftAsync(reads, context.CancellationToken);
        }

        if (!graph.TryGet(head, out var snapshot))
        {
            return head;
        }

        var report = ImpactReachability.Assess(snapshot, proposal.Targets, time.GetUtcNow());
        activity?.SetTag("controlplane.graph_version", report.GraphVersion);
        report = DeploymentDrift.Apply(report, drift);
        DeploymentStore.RecordProposal(work, proposal);
        GraphStore.RecordAssessment(work, proposal.ProposalId, report);
        await work.EnqueueAsync(new ImpactAssessed(proposal.ProposalId, proposal, report), context.CancellationToken);
        await work.CommitAsync(context.CancellationToken);
        Assessments.Add(1);
        LogAssessed(logger, proposal.ProposalId, report.GraphVersion, report.Dependents.Count, report.UnknownTargets.Count);
        return null;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Assessed proposal {ProposalId} against graph version {GraphVersion}: {Dependents} dependents, {Unknown} unknown targets")]
    private static partial void LogAssessed(ILogger logger, Guid proposalId, long graphVersion, int dependents, int unknown);

    [LoggerMessage(Level = LogLevel.Information, Message = "ProposalSubmitted {MessageId} for {ProposalId} was already assessed; ignored")]
    private static partial void LogDuplicate(ILogger logger, Guid messageId, Guid proposalId);
}

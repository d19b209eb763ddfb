using System.Diagnostics;
using System.Diagnostics.Metrics;
using ControlPlane.Contracts;
using ControlPlane.Orchestrator.Data;
using ControlPlane.Orchestrator.Lifecycle;
using ControlPlane.Orchestrator.Proposals;
using ControlPlane.ServiceDefaults.Telemetry;

namespace ControlPlane.Orchestrator;

/// <summary>
/// The orchestrator's meters: what became of governed actions, how many needed a human (autonomy), approvals,
/// and how long authorized work waited for its leases. Recorded after the unit of work committed, so a retried
/// or rolled-back attempt counts nothing.
/// </summary>
public static class OrchestratorTelemetry
{
    public const string MeterName = "ControlPlane.Orchestrator";

    /// <summary>Spans of the proposal's own steps (see <see cref="ControlPlane.ServiceDefaults.Telemetry.TraceContinuation"/>).</summary>
    public static readonly ActivitySource Source = ControlPlaneTelemetry.CreateSource("Orchestrator");

    private static readonly Meter Meter = new(MeterName);

    private static readonly Counter<long> Outcomes = Meter.CreateCounter<long>(
        "controlplane.orchestrator.outcomes", "{proposal}",
        "Governed actions that reached a terminal state, by outcome, environment and whether a human authorized them (autonomous=false)");

    private static readonly Counter<long> Approvals = Meter.CreateCounter<long>(
        "controlplane.orchestrator.approvals", "{approval}", "Human approvals and rejections recorded, by decision and environment");

    private static readonly Histogram<double> LeaseWait = Meter.CreateHistogram<double>(
        "controlplane.orchestrator.lease.wait", "s", "Time from authorization until the targets' leases and a slot were held");

    public static void Transitioned(ProposalRecord after, ProposalState from)
    {
        if (from == after.State || !ProposalStateMachine.IsTerminal(after.State))
        {
            return;
        }

        Outcomes.Add(1,
            new("outcome", StateNames.Of(after.State)),
            new("environment", after.Environment),
            new("autonomous", after.Decision?.Outcome == DecisionOutcome.Allow));
    }

    public static void ApprovalRecorded(ApprovalDecision decision, string environment) =>
        Approvals.Add(1, new("decision", decision == ApprovalDecision.Approve ? "approve" : "reject"), new("environment", environment));

    public static void LeasesHeld(ProposalRecord proposal, DateTimeOffset now)
    {
        if (proposal.AuthorizedAt is { } authorized)
        {
            LeaseWait.Record(Math.Max(0, (now - authorized).TotalSeconds), new KeyValuePair<string, object?>("environment", proposal.Environment));
        }
    }
}

using System.Globalization;
using System.Text;
using ControlPlane.Contracts;
using ControlPlane.Orchestrator.Lifecycle;
using ControlPlane.Orchestrator.Proposals;

namespace ControlPlane.Orchestrator.Itsm;

/// <summary>
/// What a proposal looks like as a ServiceNow normal change (the <c>change_request</c> fields), and which change
/// state each proposal state corresponds to. Pure: no I/O.
/// </summary>
public static class ChangeRequestContent
{
    /// <summary>Fields the Table API answers with; everything else is left out of responses.</summary>
    public const string Fields = "sys_id,number,state";

    public const int ShortDescriptionLimit = 160;

    /// <summary>Whether the proposal gets a change request at all: only when policy asked humans to approve it.</summary>
    public static bool Wanted(ProposalRecord proposal) => proposal.Decision?.Outcome == DecisionOutcome.RequireApproval;

    /// <summary>Whether policy made the change request a precondition of execution.</summary>
    public static bool Mandatory(ProposalRecord proposal) => proposal.Decision?.Approval?.ChangeRequest == true;

    /// <summary>The body of <c>POST /api/now/table/change_request</c>.</summary>
    public static Dictionary<string, string> Create(ProposalRecord proposal, string? assignmentGroup)
    {
        ArgumentNullException.ThrowIfNull(proposal);
        var summary = $"[ControlPlane] {proposal.Action.Kind} {string.Join(", ", proposal.Targets)} in {proposal.Environment}: {proposal.Action.Summary}";
        var fields = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["type"] = "normal",
            ["short_description"] = summary.Length > ShortDescriptionLimit ? summary[..(ShortDescriptionLimit - 1)] + "…" : summary,
            ["description"] = Description(proposal),
            ["correlation_id"] = proposal.Id.ToString(),
            ["correlation_display"] = "ControlPlane",
            ["impact"] = Impact(proposal.Impact),
            ["justification"] = string.Join("\n", proposal.Decision?.Reasons ?? []),
            ["implementation_plan"] = $"Executed by the ControlPlane {proposal.Action.Kind} action through a signed work package; change {proposal.Change.Reference} ({proposal.Change.Digest}).",
            ["backout_plan"] = proposal.Change.RollbackPlan ?? "No rollback plan was given.",
        };
        if (!string.IsNullOrWhiteSpace(assignmentGroup))
        {
            fields["assignment_group"] = assignmentGroup;
        }

        return fields;
    }

    /// <summary>ServiceNow impact: 1 high (revenue path, internet exposed or tier 0-1), 2 medium (regulated data or tier 2), 3 low.</summary>
    public static string Impact(ImpactReport? impact) => impact switch
    {
        null => "2",
        { RevenuePath: true } or { InternetExposed: true } or { HighestCriticality: <= 1 } => "1",
        { DataClasses.Count: > 0 } or { HighestCriticality: 2 } => "2",
        _ => "3",
    };

    public static string Description(ProposalRecord proposal)
    {
        ArgumentNullException.ThrowIfNull(proposal);
        var text = new StringBuilder();
        var ci = CultureInfo.InvariantCulture;
        text.AppendLine(ci, $"ControlPlane proposal {proposal.Id} by agent {proposal.AgentId}{(proposal.SponsorId is null ? string.Empty : $" (sponsor {proposal.SponsorId})")}.");
        text.AppendLine(ci, $"Action: {proposal.Action.Kind}: {proposal.Action.Summary}");
        text.AppendLine(ci, $"Targets: {string.Join(", ", proposal.Targets)}");
        text.AppendLine(ci, $"Environment: {proposal.Environment}");
        text.AppendLine(ci, $"Change: {proposal.Change.Reference} ({proposal.Change.Digest}); content hash {proposal.ContentHash}");
        if (proposal.Impact is { } impact)
        {
            text.AppendLine(ci, $"Blast radius (graph version {impact.GraphVersion}): {impact.Dependents.Count} dependents" +
                $"{(impact.Dependents.Count == 0 ? string.Empty : ": " + string.Join(", ", impact.Dependents.Select(d => d.NodeId)))}; " +
                $"highest criticality {(impact.HighestCriticality?.ToString(ci) ?? "unknown")}; revenue path {(impact.RevenuePath ? "yes" : "no")}; " +
                $"internet exposed {(impact.InternetExposed ? "yes" : "no")}; data classes {(impact.DataClasses.Count == 0 ? "none" : string.Join(", ", impact.DataClasses))}; " +
                $"teams {(impact.Teams.Count == 0 ? "none" : string.Join(", ", impact.Teams))}");
            foreach (var reason in impact.Reasons)
            {
                text.AppendLine(ci, $"  - {reason}");
            }
        }

        if (proposal.Decision is { } decision)
        {
            text.AppendLine(ci, $"Policy decision: {Trigger.Kebab(decision.Outcome.ToString())} (bundle {decision.BundleVersion}, {decision.BundleHash}); rules {string.Join(", ", decision.RulesFired)}");
            foreach (var reason in decision.Reasons)
            {
                text.AppendLine(ci, $"  - {reason}");
            }

            if (decision.Approval is { } approval)
            {
                text.AppendLine(ci, $"Approvals required: {approval.Count} of roles {string.Join(", ", approval.Roles)} within {approval.ExpiresAfter}");
            }
        }

        text.Append("Approve in ServiceNow or in ControlPlane; only named humans holding an approver binding for this environment count.");
        return text.ToString();
    }

    /// <summary>
    /// The change state a proposal state corresponds to, as a key (stored as synced) and the PATCH body, or null
    /// while nothing is to change (before approval the change stays as ServiceNow's approval workflow keeps it).
    /// State values are ServiceNow's change model: -2 Scheduled, -1 Implement, 3 Closed, 4 Canceled.
    /// </summary>
    public static (string Key, Dictionary<string, string> Fields)? Target(ProposalState state)
    {
        var name = ProposalStateMachine.Name(state);
        return state switch
        {
            ProposalState.Authorized or ProposalState.Validating or ProposalState.Scheduled =>
                ("scheduled", new() { ["state"] = "-2", ["work_notes"] = $"ControlPlane: proposal {name}; waiting for its turn to run." }),
            ProposalState.Executing or ProposalState.Verifying =>
                ("implement", new() { ["state"] = "-1", ["work_notes"] = $"ControlPlane: proposal {name}." }),
            ProposalState.Completed =>
                ("closed-successful", new() { ["state"] = "3", ["close_code"] = "successful", ["close_notes"] = "ControlPlane: executed and verified." }),
            ProposalState.Failed =>
                ("closed-unsuccessful", new() { ["state"] = "3", ["close_code"] = "unsuccessful", ["close_notes"] = "ControlPlane: the change failed (see the proposal's evidence)." }),
            ProposalState.Rejected or ProposalState.Denied or ProposalState.Expired or ProposalState.Cancelled =>
                ("canceled", new() { ["state"] = "4", ["close_notes"] = $"ControlPlane: proposal {name}; nothing was executed." }),
            _ => null,
        };
    }

    /// <summary>The link a reviewer opens: the instance's form for the record.</summary>
    public static string Url(Uri instance, string sysId) =>
        new Uri(instance, $"nav_to.do?uri=change_request.do?sys_id={Uri.EscapeDataString(sysId)}").ToString();
}

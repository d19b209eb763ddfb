using ControlPlane.Contracts;
using ControlPlane.Policy.Bundles;
using ControlPlane.Policy.Data;

namespace ControlPlane.Policy.Autonomy;

/// <summary>What the policy lets an action run with: unattended (allow), with approval, or not at all (deny).</summary>
public enum AutonomyLevel
{
    Unattended,
    WithApproval,
    NotAtAll,
}

/// <summary>Impact facts standing for a class of change: the autonomy report evaluates the policy against these.</summary>
public sealed record RiskProfile(
    string Name,
    string Description,
    int HighestCriticality,
    bool RevenuePath,
    IReadOnlyList<string> DataClasses,
    int Dependents,
    bool InternetExposed,
    bool UnknownTargets,
    bool RollbackPlanPresent)
{
    public PolicyFacts Facts(string actionKind, string environment, string agentId) =>
        new(actionKind, environment, agentId, RollbackPlanPresent, HighestCriticality, RevenuePath, DataClasses, Dependents, InternetExposed, UnknownTargets);
}

/// <summary>Whether the plane can execute an action kind for the agent, and on what that rests.</summary>
public sealed record Capability(bool Capable, string Basis, ActionRoute? Route = null);

public sealed record ProfileVerdict(
    string Profile,
    AutonomyLevel Autonomy,
    ApprovalRequirement? Approval,
    IReadOnlyList<string> RulesFired,
    IReadOnlyList<string> Reasons);

/// <summary>TrackRecord: the agent's verified record there and what it must still earn (null when no rule uses a track record).</summary>
public sealed record AutonomyEntry(string Environment, string ActionKind, Capability Can, IReadOnlyList<ProfileVerdict> Allowed, string Summary,
    EarnedAutonomy? TrackRecord = null);

public sealed record BundleReference(string Hash, string Version);

public sealed record AutonomyReport(
    string AgentId,
    string DisplayName,
    string? SponsorId,
    string? Fleet,
    DateTimeOffset? RevokedAt,
    BundleReference? Bundle,
    IReadOnlyList<ActionRoute> Routes,
    IReadOnlyList<FleetCapabilities> Fleets,
    string Basis,
    IReadOnlyList<RiskProfile> Profiles,
    IReadOnlyList<AutonomyEntry> Entries,
    IReadOnlyList<string> Notes,
    DateTimeOffset GeneratedAt);

/// <summary>
/// The capability / permission report of one agent (issue 5, item 10): for every environment × action kind the
/// agent may propose, what its fleet CAN execute next to what the active policy ALLOWS, per risk profile. Pure:
/// the caller loads the agent, its fleet's capabilities and the policy.
/// </summary>
public static class AutonomyReportBuilder
{
    public const string Basis =
        "Policy verdicts are evaluated against representative impact profiles (low-risk, elevated, worst-case), not against " +
        "the live system graph: the real verdict of a proposal depends on the blast radius of its targets at the time it is " +
        "submitted. Capability joins orchestrator's action catalog (the fleet, runner action and command a proposal kind " +
        "becomes) with that fleet's last capability report (live runners and the commands they allow-list). Use " +
        "POST /policies/evaluate to dry-run specific impact facts.";

    public static readonly IReadOnlyList<RiskProfile> Profiles =
    [
        new("low-risk", "a tier-3 leaf with public data only, no dependents, a rollback plan",
            3, false, ["public"], 0, false, false, true),
        new("elevated", "a tier-1 node holding personal data with 6 dependents, a rollback plan",
            1, false, ["pii"], 6, false, false, true),
        new("worst-case", "a tier-0, internet-exposed node on the revenue path holding regulated and card data, 50 dependents, an unknown target, no rollback plan",
            0, true, ["pci", "pii", "regulated"], 50, true, true, false),
    ];

    public static AutonomyReport Build(AgentRecord agent, IReadOnlyList<ActionRoute> routes, IReadOnlyList<FleetCapabilities> fleets, CompiledPolicy? policy, DateTimeOffset now,
        IReadOnlyList<TrackRecordOutcomes>? trackRecords = null)
    {
        ArgumentNullException.ThrowIfNull(routes);
        ArgumentNullException.ThrowIfNull(fleets);
        ArgumentNullException.ThrowIfNull(agent);
        var notes = new List<string>();
        if (agent.RevokedAt is { } revokedAt)
        {
            notes.Add($"The agent was revoked at {revokedAt:O}: it cannot obtain tokens, so it can do nothing whatever the policy says.");
        }

        if (policy is null)
        {
            notes.Add("No policy bundle is active: every proposal is denied (fail closed).");
        }

        if (agent.AllowedEnvironments.Count == 0 || agent.AllowedActionKinds.Count == 0)
        {
            notes.Add("The agent has no allowed environments or no allowed action kinds in identity, so it may propose nothing.");
        }

        if (routes.Count == 0)
        {
            notes.Add("Orchestrator has not announced its action catalog yet, so no proposal kind is known to map to a runner action.");
        }

        var entries = new List<AutonomyEntry>();
        foreach (var environment in agent.AllowedEnvironments.Order(StringComparer.Ordinal))
        {
            foreach (var actionKind in agent.AllowedActionKinds.Order(StringComparer.Ordinal))
            {
                var can = CapabilityOf(agent, routes, fleets, actionKind);
                // The verdicts count the agent's real track record: earned autonomy shows in them as it is earned.
                var outcomes = trackRecords?.FirstOrDefault(t => t.ActionKind == actionKind && t.Environment == environment)?.Outcomes ?? [];
                var record = TrackRecordFacts.From(outcomes, policy?.TrackRecordWindows ?? [], now);
                var facts = Profiles.Select(p => p.Facts(actionKind, environment, agent.AgentId) with { TrackRecord = record }).ToList();
                var verdicts = Profiles.Select((p, i) => Verdict(p, PolicyEvaluator.Decide(policy, facts[i], now))).ToList();
                entries.Add(new AutonomyEntry(environment, actionKind, can, verdicts, Summarize(can, verdicts), EarnedAutonomyBuilder.Of(policy, facts, outcomes, now)));
            }
        }

        return new AutonomyReport(agent.AgentId, agent.DisplayName, agent.SponsorId, agent.Fleet, agent.RevokedAt,
            policy is null ? null : new BundleReference(policy.Hash, policy.Version), routes, fleets, Basis, Profiles, entries, notes, now);
    }

    private static Capability CapabilityOf(AgentRecord agent, IReadOnlyList<ActionRoute> routes, IReadOnlyList<FleetCapabilities> fleets, string actionKind)
    {
        if (agent.RevokedAt is not null)
        {
            return new Capability(false, "the agent is revoked");
        }

        if (routes.FirstOrDefault(r => string.Equals(r.ProposalKind, actionKind, StringComparison.Ordinal)) is not { } route)
        {
            return new Capability(false, $"orchestrator maps no runner action to '{actionKind}' (Orchestrator:Actions:{actionKind})");
        }

        if (fleets.FirstOrDefault(f => string.Equals(f.Fleet, route.Fleet, StringComparison.Ordinal)) is not { } fleet)
        {
            return new Capability(false, $"fleet '{route.Fleet}' has not reported its capabilities", route);
        }

        var needs = route.RequiredCapability;
        if (!fleet.ActionKinds.Contains(needs, StringComparer.Ordinal))
        {
            return new Capability(false, $"no runner of fleet '{fleet.Fleet}' allow-lists {needs}", route);
        }

        return fleet.LiveRunners > 0
            ? new Capability(true, $"fleet '{fleet.Fleet}' runs {needs} ({fleet.LiveRunners} live runner{(fleet.LiveRunners == 1 ? "" : "s")} at {fleet.ChangedAt:O})", route)
            : new Capability(false, $"fleet '{fleet.Fleet}' allow-lists {needs} but has no live runner", route);
    }

    private static ProfileVerdict Verdict(RiskProfile profile, PolicyDecision decision) => new(
        profile.Name,
        decision.Outcome switch
        {
            DecisionOutcome.Allow => AutonomyLevel.Unattended,
            DecisionOutcome.RequireApproval => AutonomyLevel.WithApproval,
            _ => AutonomyLevel.NotAtAll,
        },
        decision.Approval,
        decision.RulesFired,
        decision.Reasons);

    private static string Summarize(Capability can, List<ProfileVerdict> verdicts) =>
        $"{(can.Capable ? "can" : "cannot")} execute; allowed " + string.Join(", ", verdicts.Select(v => v.Autonomy switch
        {
            AutonomyLevel.Unattended => $"unattended when {v.Profile}",
            AutonomyLevel.WithApproval => $"with {v.Approval!.Count} approval(s) by {string.Join("/", v.Approval.Roles)} when {v.Profile}",
            _ => $"not at all when {v.Profile}",
        }));
}

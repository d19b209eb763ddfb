using System.Globalization;
using ControlPlane.Contracts;

namespace ControlPlane.Policy.Validation;

/// <summary>
/// Derives the validation plan of a decision from its impact report and the plan rules of the rules that fired.
/// The targets' validate suites are always in and required ("target billing declares it"); each rule's dependent
/// selections add the suites of the dependents they choose (required, or advisory when the selection says so);
/// minimums ("all-tier-0-dependents") make those dependents' suites required; added suites join by name. A suite
/// chosen several times appears once with every reason (required wins over advisory; the most retries win). The
/// advisory list turns a chosen suite advisory unless a target or a minimum requires it. Order: by the depth of the
/// declaring node (targets first, suites of nodes outside the impact last), then node id, then suite name.
/// Verifications: the targets' verify suites. Pure and deterministic: the same report and rules give the same plan,
/// whatever else is in the graph.
/// </summary>
public static class ValidationPlanner
{
    private const string VerifyStage = "verify";

    /// <summary>Null when no fired rule has a plan or there is no impact report to plan from.</summary>
    public static ValidationPlan? Plan(ImpactReport? impact, IReadOnlyList<(string RuleId, ValidationPlanRule Plan)> rules)
    {
        ArgumentNullException.ThrowIfNull(rules);
        if (impact is null || rules.Count == 0)
        {
            return null;
        }

        // Reachability unknown (no TargetNodes): every dependent counts as reachable, so reachable-only never drops one.
        var reachabilityKnown = impact.TargetNodes is not null;
        var targets = impact.TargetNodes ?? [];
        var dependents = impact.Dependents ?? [];
        var validations = new Dictionary<string, Candidate>(StringComparer.Ordinal);
        var verifications = new Dictionary<string, Candidate>(StringComparer.Ordinal);

        foreach (var target in targets)
        {
            foreach (var suite in target.Suites ?? [])
            {
                var into = suite.Stage == VerifyStage ? verifications : validations;
                Choose(into, suite, target, $"target {target.NodeId} declares it", Strength.Minimum);
            }
        }

        var advisory = new HashSet<string>(StringComparer.Ordinal);
        var retries = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (ruleId, plan) in rules)
        {
            for (var i = 0; i < plan.Dependents.Count; i++)
            {
                var selection = plan.Dependents[i];
                foreach (var dependent in dependents.Where(d => Selects(selection, d, reachabilityKnown)))
                {
                    var reason = $"{Describe(dependent, reachabilityKnown)}: rule {ruleId} selects dependents ({selection.Describe()})";
                    ChooseValidateSuites(validations, dependent, reason, selection.Advisory ? Strength.Advisory : Strength.Chosen);
                }
            }

            foreach (var minimum in plan.Require)
            {
                foreach (var dependent in dependents.Where(d => Requires(minimum, d, reachabilityKnown)))
                {
                    ChooseValidateSuites(validations, dependent, $"{Describe(dependent, reachabilityKnown)}: rule {ruleId} requires {minimum}", Strength.Minimum);
                }
            }

            foreach (var added in plan.Add)
            {
                var node = targets.Concat(dependents).FirstOrDefault(n => n.NodeId == added.Node);
                var declared = node?.Suites?.FirstOrDefault(s => s.Name == added.Suite);
                var suite = declared ?? new ValidationSuite(added.Suite, added.Fleet, $"added by rule {ruleId}", 0);
                Choose(validations, suite with { Fleet = added.Fleet }, node ?? Outside(added.Node), $"rule {ruleId} adds it", Strength.Chosen);
            }

            advisory.UnionWith(plan.Advisory);
            foreach (var (suite, count) in plan.Retries)
            {
                retries[suite] = Math.Max(count, retries.GetValueOrDefault(suite));
            }
        }

        return new ValidationPlan(impact.GraphVersion, Finish(validations, advisory, retries),
            verifications.Count == 0 ? null : Finish(verifications, advisory, retries));
    }

    private static bool Selects(DependentSelection selection, ImpactedNode dependent, bool reachabilityKnown) =>
        (selection.MaxDepth is not { } depth || dependent.Depth <= depth) &&
        (selection.CriticalityAtMost is not { } tier || dependent.CriticalityTier <= tier) &&
        (selection.DataClassesAnyOf is not { } classes || (dependent.DataClasses ?? []).Any(c => classes.Contains(c, StringComparer.OrdinalIgnoreCase))) &&
        (selection.FlowsAnyOf is not { } flows || (dependent.Flow is { } flow && flows.Contains(flow, StringComparer.Ordinal))) &&
        (!selection.ReachableOnly || !reachabilityKnown || dependent.Reachable);

    private static bool Requires(string minimum, ImpactedNode dependent, bool reachabilityKnown) => minimum switch
    {
        PlanMinimums.AllDependents => true,
        PlanMinimums.AllReachableDependents => !reachabilityKnown || dependent.Reachable,
        _ => PlanMinimums.TierOf(minimum) is { } tier && dependent.CriticalityTier <= tier,
    };

    /// <summary>"checkout (depth 1, internal-call, tier 1, reachable via gateway → checkout) depends on billing".</summary>
    private static string Describe(ImpactedNode dependent, bool reachabilityKnown)
    {
        var facts = new List<string> { string.Create(CultureInfo.InvariantCulture, $"depth {dependent.Depth}") };
        if (dependent.Flow is { } flow)
        {
            facts.Add(flow);
        }

        facts.Add(string.Create(CultureInfo.InvariantCulture, $"tier {dependent.CriticalityTier}"));
        facts.Add(!reachabilityKnown ? "reachability unknown"
            : dependent.ReachablePath is { Count: > 0 } path ? $"reachable via {string.Join(" → ", path)}"
            : dependent.Reachable ? "reachable" : "not reachable");
        var target = dependent.Path is { Count: > 0 } p ? p[0] : "a target";
        return $"{dependent.NodeId} ({string.Join(", ", facts)}) depends on {target}";
    }

    private static void ChooseValidateSuites(Dictionary<string, Candidate> into, ImpactedNode node, string reason, Strength strength)
    {
        foreach (var suite in (node.Suites ?? []).Where(s => s.Stage != VerifyStage))
        {
            Choose(into, suite, node, reason, strength);
        }
    }

    private static void Choose(Dictionary<string, Candidate> into, ValidationSuite suite, ImpactedNode node, string reason, Strength strength)
    {
        var rank = (node.Depth, node.NodeId);
        if (!into.TryGetValue(suite.Name, out var candidate))
        {
            into[suite.Name] = candidate = new Candidate(suite, node.NodeId, rank);
        }
        else if (Earlier(rank, candidate.Rank))
        {
            // Two nodes declare a suite of the same name: the one nearest the targets (then by id) names it.
            candidate.Suite = suite;
            candidate.NodeId = node.NodeId;
            candidate.Rank = rank;
        }

        if (!candidate.Reasons.Contains(reason))
        {
            candidate.Reasons.Add(reason);
        }

        candidate.Strength = (Strength)Math.Max((int)candidate.Strength, (int)strength);
    }

    private static bool Earlier((int Depth, string Id) a, (int Depth, string Id) b) =>
        a.Depth < b.Depth || (a.Depth == b.Depth && string.CompareOrdinal(a.Id, b.Id) < 0);

    /// <summary>A node the impact does not hold: its added suites sort after every suite of the impact.</summary>
    private static ImpactedNode Outside(string nodeId) => new(nodeId, int.MaxValue, [], 3, null, false, [], false);

    private static List<PlannedSuite> Finish(Dictionary<string, Candidate> candidates, HashSet<string> advisory, Dictionary<string, int> retries) =>
        [.. candidates.Values
            .OrderBy(c => c.Rank.Depth).ThenBy(c => c.Rank.Id, StringComparer.Ordinal).ThenBy(c => c.Suite.Name, StringComparer.Ordinal)
            .Select(c =>
            {
                var required = c.Strength == Strength.Minimum || (c.Strength == Strength.Chosen && !advisory.Contains(c.Suite.Name));
                return new PlannedSuite(c.Suite.Name, c.Suite.Fleet, c.NodeId, c.Suite.Covers, c.Suite.DurationSeconds, [.. c.Reasons], required,
                    retries.GetValueOrDefault(c.Suite.Name));
            })];

    /// <summary>How strongly a suite is in the plan: a minimum (targets, require) beats a choice, which beats advice.</summary>
    private enum Strength
    {
        Advisory = 0,
        Chosen = 1,
        Minimum = 2,
    }

    private sealed class Candidate(ValidationSuite suite, string nodeId, (int Depth, string Id) rank)
    {
        public ValidationSuite Suite { get; set; } = suite;

        public string NodeId { get; set; } = nodeId;

        public (int Depth, string Id) Rank { get; set; } = rank;

        public List<string> Reasons { get; } = [];

        public Strength Strength { get; set; } = Strength.Advisory;
    }
}

/// <summary>
/// The plan as the steps the orchestrator runs: each planned suite is a run-command step "run-suite" on the suite's
/// fleet, with its retries and advisory when not required. Steps a rule lists by hand follow, deduplicated by name.
/// </summary>
public static class PlanSteps
{
    public const string RunSuite = "run-suite";

    public static IReadOnlyList<StepRequirement> Validations(ValidationPlan? plan, IReadOnlyList<StepRequirement> listed) =>
        Merge(plan?.Suites, listed);

    public static IReadOnlyList<StepRequirement> Verifications(ValidationPlan? plan, IReadOnlyList<StepRequirement> listed) =>
        Merge(plan?.Verifications, listed);

    public static StepRequirement ToStep(PlannedSuite suite)
    {
        ArgumentNullException.ThrowIfNull(suite);
        return new StepRequirement(suite.Suite, "run-command",
            new SortedDictionary<string, string>(StringComparer.Ordinal)
            {
                ["command"] = RunSuite,
                ["suite"] = suite.Suite,
                ["node"] = suite.NodeId,
                ["fleet"] = suite.Fleet,
            },
            suite.Retries, !suite.Required);
    }

    private static IReadOnlyList<StepRequirement> Merge(IReadOnlyList<PlannedSuite>? planned, IReadOnlyList<StepRequirement> listed)
    {
        ArgumentNullException.ThrowIfNull(listed);
        if (planned is not { Count: > 0 })
        {
            return listed;
        }

        return [.. planned.Select(ToStep).Concat(listed).DistinctBy(s => s.Name, StringComparer.Ordinal)];
    }
}

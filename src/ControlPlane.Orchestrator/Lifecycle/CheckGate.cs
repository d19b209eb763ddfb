using ControlPlane.Contracts;
using ControlPlane.Orchestrator.Data;

namespace ControlPlane.Orchestrator.Lifecycle;

/// <summary>Where the gate over a proposal's checks stands: still holding, open (every required step passed) or closed.</summary>
public enum GateState
{
    Holding,
    Open,
    Closed,
}

/// <summary>The gate's reading of the work so far: its state, each step's verdict, and the steps due for a retry.</summary>
public sealed record GateEvaluation(GateState State, IReadOnlyList<SuiteVerdict> Suites, IReadOnlyList<StepRequirement> RetryDue);

/// <summary>
/// The verdict over the validations (or verifications) a decision asks for, from the work items they became; pure.
/// Each step is judged by its latest current attempt (offers superseded by a timeout re-offer do not count): a failed
/// attempt is run again while the step's failures do not exceed its Retries; a failure after that closes the gate,
/// unless the step is advisory (reported, never closing it). The gate opens once every required step passed and every
/// advisory step has its result (or spent its offers), so the verdict reports them all.
/// </summary>
public static class CheckGate
{
    /// <summary>The decision's steps, one per name (the first wins): a name is one suite, run once however often it is listed.</summary>
    public static IReadOnlyList<StepRequirement> Distinct(IReadOnlyList<StepRequirement>? steps) =>
        [.. (steps ?? []).DistinctBy(s => s.Name, StringComparer.Ordinal)];

    public static GateEvaluation Evaluate(IReadOnlyList<StepRequirement>? steps, WorkStep step, IReadOnlyList<WorkItem> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        var verdicts = new List<SuiteVerdict>();
        var retryDue = new List<StepRequirement>();
        var closed = false;
        var allRequiredPassed = true;
        var advisorySettled = true;
        foreach (var requirement in Distinct(steps))
        {
            var attempts = items
                .Where(i => i.Step == step && i.Status != WorkStatus.Superseded && string.Equals(i.Name, requirement.Name, StringComparison.Ordinal))
                .OrderBy(i => i.RequestedAt).ThenBy(i => i.WorkId)
                .ToList();
            var failures = attempts.Count(i => i.Status is WorkStatus.Failed or WorkStatus.TimedOut);
            var latest = attempts.LastOrDefault();
            var retries = Math.Max(0, requirement.Retries);
            var result = latest?.Status switch
            {
                null => SuiteResults.NotRun,
                WorkStatus.Pending => failures > 0 ? SuiteResults.Retrying : SuiteResults.Running,
                WorkStatus.Succeeded => failures > 0 ? SuiteResults.RetriedThenPassed : SuiteResults.Passed,
                WorkStatus.Failed when failures <= retries => SuiteResults.Retrying,
                WorkStatus.Failed or WorkStatus.TimedOut => requirement.Advisory ? SuiteResults.AdvisoryFailed : SuiteResults.Failed,
                _ => SuiteResults.Abandoned,
            };
            if (latest is { Status: WorkStatus.Failed } && failures <= retries)
            {
                retryDue.Add(requirement);
            }

            closed |= result == SuiteResults.Failed;
            allRequiredPassed &= requirement.Advisory || result is SuiteResults.Passed or SuiteResults.RetriedThenPassed;
            advisorySettled &= !requirement.Advisory || result is not (SuiteResults.Running or SuiteResults.Retrying);
            verdicts.Add(new SuiteVerdict(requirement.Name, requirement.Advisory, retries, attempts.Count, result, latest?.RunnerId, latest?.ResultDigest,
                latest?.Reason));
        }

        var state = closed ? GateState.Closed
            : retryDue.Count == 0 && allRequiredPassed && advisorySettled && verdicts.Count > 0 ? GateState.Open
            : GateState.Holding;
        return new GateEvaluation(state, verdicts, retryDue);
    }

    /// <summary>One line for the history: what held, retried, passed or failed.</summary>
    public static string Summary(GateEvaluation evaluation)
    {
        ArgumentNullException.ThrowIfNull(evaluation);
        return string.Join("; ", evaluation.Suites.Select(s => $"{s.Name}: {s.Result}" + (s.Attempts > 1 ? $" ({s.Attempts} attempts)" : string.Empty)));
    }

    /// <summary>The digest a verdict and an approval pin for a plan: sha256 of its canonical JSON; null without a plan.</summary>
    public static string? PlanHash(PolicyDecision? decision) => decision?.Plan is { } plan ? CanonicalJson.Hash(plan) : null;
}

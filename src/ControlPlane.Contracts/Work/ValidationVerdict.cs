namespace ControlPlane.Contracts;

/// <summary>What became of one step (a planned suite or a hand-listed check) at the gate. Results: see <see cref="SuiteResults"/>.</summary>
public sealed record SuiteVerdict(
    string Name,
    bool Advisory,
    int Retries,
    int Attempts,
    string Result,
    string? RunnerId,
    string? ResultDigest,
    string? Reason);

/// <summary>The words a <see cref="SuiteVerdict"/> uses for its result.</summary>
public static class SuiteResults
{
    public const string Passed = "passed";
    public const string RetriedThenPassed = "retried-then-passed";
    public const string Failed = "failed";
    public const string AdvisoryFailed = "advisory-failed";
    public const string Running = "running";
    public const string Retrying = "retrying";
    public const string NotRun = "not-run";
    public const string Abandoned = "abandoned";
}

/// <summary>
/// Event: orchestrator's gate over a proposal's validations (Step validate, before execution) or verifications (Step
/// verify, after it) opened (Passed) or closed: every step with its result and the digest of the runner's signed
/// result (sha256 of the DSSE payload). PlanHash: the digest of the decision's validation plan (null without one).
/// </summary>
public sealed record ValidationVerdict(
    Guid ProposalId,
    WorkStep Step,
    bool Passed,
    string? PlanHash,
    IReadOnlyList<SuiteVerdict> Suites,
    string Reason,
    DateTimeOffset At);

using System.Text.Json.Serialization;

namespace ControlPlane.Contracts;

/// <summary>
/// How many distinct humans holding which roles must approve, and how long they have. ChangeRequest: the change
/// may not run before its ITSM change request exists (left out of the JSON when false, so existing hashes hold).
/// </summary>
public sealed record ApprovalRequirement(int Count, IReadOnlyList<string> Roles, TimeSpan ExpiresAfter,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] bool ChangeRequest = false);

/// <summary>
/// A step a fleet must run: a validation before execution or a verification after it. Retries: how many times a
/// failed run may be repeated (a flaky suite, by policy). Advisory: its failure is reported but does not hold the
/// gate. Both are left out of the JSON at their defaults, so existing decision hashes hold.
/// </summary>
public sealed record StepRequirement(string Name, string ActionKind, IReadOnlyDictionary<string, string> Parameters,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] int Retries = 0,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] bool Advisory = false);

/// <summary>
/// One suite of a validation plan: which node declared it, which fleet runs it, and every reason it is in the plan
/// (a suite chosen for several reasons appears once).
/// </summary>
public sealed record PlannedSuite(
    string Suite,
    string Fleet,
    string NodeId,
    string Covers,
    int DurationSeconds,
    IReadOnlyList<string> Reasons,
    bool Required,
    int Retries);

/// <summary>
/// The validations a decision asks for, derived from the impact (the targets' suites and those of the affected
/// dependents the policy's rules choose) against one graph version; deterministic for that version. Verifications:
/// the suites run after execution (the targets' "verify" suites), by the same mechanism.
/// </summary>
public sealed record ValidationPlan(long GraphVersion, IReadOnlyList<PlannedSuite> Suites,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<PlannedSuite>? Verifications = null);

/// <summary>
/// The policy's verdict with everything needed to explain it. Plan: the change-aware validation plan (its suites are
/// also in Validations, as the steps the orchestrator runs); null for decisions without one.
/// </summary>
public sealed record PolicyDecision(
    DecisionOutcome Outcome,
    IReadOnlyList<string> Reasons,
    IReadOnlyList<string> RulesFired,
    string BundleHash,
    string BundleVersion,
    ApprovalRequirement? Approval,
    IReadOnlyList<StepRequirement> Validations,
    IReadOnlyList<StepRequirement> Verifications,
    DateTimeOffset DecidedAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] ValidationPlan? Plan = null);

/// <summary>Event: policy decided on an assessed proposal.</summary>
public sealed record PolicyDecided(Guid ProposalId, string ContentHash, long GraphVersion, PolicyDecision Decision);

/// <summary>Event: a policy bundle became the active one.</summary>
public sealed record PolicyBundleActivated(string BundleHash, string Version, string ActivatedBy, DateTimeOffset At);

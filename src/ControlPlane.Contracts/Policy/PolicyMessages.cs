using System.Text.Json.Serialization;

namespace ControlPlane.Contracts;

/// <summary>
/// How many distinct humans holding which roles must approve, and how long they have. ChangeRequest: the change
/// may not run before its ITSM change request exists (left out of the JSON when false, so existing hashes hold).
/// </summary>
public sealed record ApprovalRequirement(int Count, IReadOnlyList<string> Roles, TimeSpan ExpiresAfter,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] bool ChangeRequest = false);

/// <summary>A step a fleet must run: a validation before execution or a verification after it.</summary>
public sealed record StepRequirement(string Name, string ActionKind, IReadOnlyDictionary<string, string> Parameters);

/// <summary>The policy's verdict with everything needed to explain it.</summary>
public sealed record PolicyDecision(
    DecisionOutcome Outcome,
    IReadOnlyList<string> Reasons,
    IReadOnlyList<string> RulesFired,
    string BundleHash,
    string BundleVersion,
    ApprovalRequirement? Approval,
    IReadOnlyList<StepRequirement> Validations,
    IReadOnlyList<StepRequirement> Verifications,
    DateTimeOffset DecidedAt);

/// <summary>Event: policy decided on an assessed proposal.</summary>
public sealed record PolicyDecided(Guid ProposalId, string ContentHash, long GraphVersion, PolicyDecision Decision);

/// <summary>Event: a policy bundle became the active one.</summary>
public sealed record PolicyBundleActivated(string BundleHash, string Version, string ActivatedBy, DateTimeOffset At);

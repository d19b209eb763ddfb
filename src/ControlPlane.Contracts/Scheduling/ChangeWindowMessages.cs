namespace ControlPlane.Contracts;

/// <summary>The two kinds of change window (Argo CD sync windows are the model).</summary>
public static class ChangeWindowKinds
{
    /// <summary>While a deny window that applies is open, nothing new starts; deny beats allow.</summary>
    public const string Deny = "deny";

    /// <summary>When any allow window applies to a change, it may start only while one of them is open.</summary>
    public const string Allow = "allow";
}

/// <summary>
/// What a change window applies to. Each list names values or "*" (any); a window applies to a change when every list
/// matches (environment, a target node, an owner team). See src/ControlPlane.Orchestrator/README.md "Change windows".
/// </summary>
public sealed record ChangeWindowScope(IReadOnlyList<string> Environments, IReadOnlyList<string> Nodes, IReadOnlyList<string> Teams);

/// <summary>
/// A recurring change window: opens at each occurrence of Schedule (5-field cron) in TimeZone (IANA) and stays open
/// for Duration ("64h", "1h30m", "2d"). ExtendsToDependents: a freeze of a node it names also holds changes to the
/// node's dependents (the nodes that depend on it, transitively: its blast radius in system-graph).
/// </summary>
public sealed record ChangeWindow(
    Guid Id,
    string Name,
    string Kind,
    string Schedule,
    string Duration,
    string TimeZone,
    ChangeWindowScope Scope,
    bool ExtendsToDependents,
    string? Description,
    string CreatedBy,
    DateTimeOffset CreatedAt,
    string? UpdatedBy = null,
    DateTimeOffset? UpdatedAt = null);

/// <summary>Event: an operator created, updated or deleted a change window (Change: created, updated, deleted); Window is the whole window after the change (before it, for deleted).</summary>
public sealed record ChangeWindowChanged(ChangeWindow Window, string Change, string ChangedBy, DateTimeOffset At);

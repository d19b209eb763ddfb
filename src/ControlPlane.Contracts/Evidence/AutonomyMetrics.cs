using System.Text.Json.Serialization;

namespace ControlPlane.Contracts.Evidence;

/// <summary>GET /metrics/autonomy: governed actions submitted in [From, To). Formulas: src/ControlPlane.Evidence/README.md.</summary>
public sealed record AutonomyMetrics(
    DateTimeOffset From,
    DateTimeOffset To,
    AutonomyTotals Totals,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] double? AutonomyRate,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] double? ChangeFailureRate,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] double? RollbackRate,
    LatencySummary TimeToComplete,
    ApprovalMetrics Approvals,
    IReadOnlyList<AutonomyBreakdown> ByEnvironment,
    IReadOnlyList<AutonomyBreakdown> ByAgent,
    IReadOnlyList<AutonomyBreakdown> ByActionKind,
    IReadOnlyList<DeniedBurst> DeniedBursts);

public sealed record AutonomyTotals(
    int Proposals, int Completed, int CompletedUnattended, int Failed, int RolledBack, int Rejected, int Denied,
    int Cancelled, int Expired, int AwaitingApproval, int InFlight);

/// <summary>Nearest-rank percentiles in milliseconds; null when there is nothing to measure.</summary>
public sealed record LatencySummary(
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] double? P50Ms,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] double? P95Ms);

/// <summary>
/// Human decisions and waiting approvals. SpentOnReachable / SpentOnUnreachable: the decisions on proposals whose impact
/// reaches a node outside traffic can reach (unknown reachability counts as reachable) and on the others: where human
/// attention went.
/// </summary>
public sealed record ApprovalMetrics(
    int Decided,
    int Waiting,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] DateTimeOffset? OldestWaitingSince,
    LatencySummary Latency,
    IReadOnlyList<HumanApprovals> ByHuman,
    int SpentOnReachable = 0,
    int SpentOnUnreachable = 0);

public sealed record HumanApprovals(string Human, int Approved, int Rejected, LatencySummary Latency);

public sealed record AutonomyBreakdown(
    string Key, int Proposals, int Completed, int CompletedUnattended,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] double? AutonomyRate,
    int Failed, int RolledBack);

/// <summary>At least five denials of one agent within ten minutes, starting at WindowStart.</summary>
public sealed record DeniedBurst(string Agent, int Denied, DateTimeOffset WindowStart);

/// <summary>GET /evidence/verification: the global chain's status for the audit page (cached up to 60 s).</summary>
public sealed record ChainStatus(
    bool Verified,
    long Records,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] long? FirstBroken,
    DateTimeOffset CheckedAt);

/// <summary>GET /evidence/records with page/pageSize: one page of the filtered log and how many records match.</summary>
public sealed record EvidenceSearchPage(IReadOnlyList<EvidenceRecord> Records, long Total, int Page, int PageSize);

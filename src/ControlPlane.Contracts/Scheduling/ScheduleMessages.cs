namespace ControlPlane.Contracts;

/// <summary>
/// Event: an operator engaged or released a kill switch. Scope is "environment" or "fleet"; while engaged
/// orchestrator starts nothing new there (work already running continues).
/// </summary>
public sealed record KillSwitchChanged(string Scope, string Value, bool Engaged, string Reason, string ChangedBy, DateTimeOffset At);

/// <summary>
/// How orchestrator turns a proposal's action kind into work for a runner: the fleet that executes it, the runner
/// action, and for run-command the allow-listed command it names.
/// </summary>
public sealed record ActionRoute(string ProposalKind, string Fleet, string RunnerAction, string? Command)
{
    /// <summary>The runner capability this route needs: "run-command:deploy", or the runner action alone.</summary>
    public string RequiredCapability => Command is null ? RunnerAction : $"{RunnerAction}:{Command}";
}

/// <summary>
/// Event: orchestrator's action catalog (Orchestrator:Actions), announced at every start. Policy joins it with the
/// fleets' capabilities to say what an agent's proposals can actually execute.
/// </summary>
public sealed record ActionCatalogPublished(IReadOnlyList<ActionRoute> Routes, string Publisher, DateTimeOffset At);

namespace ControlPlane.Contracts;

/// <summary>
/// Event: an operator engaged or released a kill switch. Scope is "environment" or "fleet"; while engaged
/// orchestrator starts nothing new there (work already running continues).
/// </summary>
public sealed record KillSwitchChanged(string Scope, string Value, bool Engaged, string Reason, string ChangedBy, DateTimeOffset At);

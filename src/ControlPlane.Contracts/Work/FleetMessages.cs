namespace ControlPlane.Contracts;

/// <summary>Event: what a fleet's live runners can do changed (a runner registered, went silent, or came back).</summary>
public sealed record FleetCapabilitiesChanged(string Fleet, IReadOnlyList<string> ActionKinds, int LiveRunners, DateTimeOffset At);

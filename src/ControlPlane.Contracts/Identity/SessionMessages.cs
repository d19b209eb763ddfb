namespace ControlPlane.Contracts;

/// <summary>Event: a human signed in to an interactive client (the console) and received tokens for it.</summary>
public sealed record HumanSignedIn(string HumanId, string Client, DateTimeOffset At);

/// <summary>Event: a human signed out of an interactive client (identity's end-session endpoint).</summary>
public sealed record HumanSignedOut(string HumanId, string Client, DateTimeOffset At);

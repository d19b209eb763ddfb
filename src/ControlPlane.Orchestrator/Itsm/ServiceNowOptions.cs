namespace ControlPlane.Orchestrator.Itsm;

/// <summary>
/// <c>Integrations:ServiceNow</c>. Without an instance URL the integration is off and nothing else changes.
/// Credentials: <see cref="Username"/>/<see cref="Password"/> (basic auth) or <see cref="Token"/> (an OAuth bearer
/// token); never logged.
/// </summary>
public sealed class ServiceNowOptions
{
    public const string Section = "Integrations:ServiceNow";

    /// <summary>The instance, e.g. https://example.service-now.com.</summary>
    public Uri? InstanceUrl { get; set; }

    public string? Username { get; set; }

    public string? Password { get; set; }

    public string? Token { get; set; }

    /// <summary>How often approvals are read from <c>sysapproval_approver</c> and lagging change requests caught up.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The client (an agent of identity with a <c>principals:read</c> binding, e.g. auditor) that maps approvers.</summary>
    public string? IdentityClientId { get; set; }

    public string? IdentityClientSecret { get; set; }

    /// <summary>The <c>assignment_group</c> of new change requests (a sys_id or name), when set.</summary>
    public string? AssignmentGroup { get; set; }

    public bool Enabled => InstanceUrl is not null;
}

using System.Collections.Frozen;
using ControlPlane.Contracts;

namespace ControlPlane.ServiceDefaults.Security;

/// <summary>
/// Permissions are what endpoints ask for; roles are what people are given. Every endpoint names exactly one
/// permission (see <see cref="EndpointSecurityExtensions.RequirePermission{TBuilder}"/>).
/// </summary>
public static class Permissions
{
    public const string ProposalsRead = "proposals:read";
    public const string ProposalsSubmit = "proposals:submit";
    public const string ProposalsApprove = "proposals:approve";
    public const string ProposalsCancel = "proposals:cancel";
    public const string ScheduleOperate = "schedule:operate";
    public const string GraphRead = "graph:read";
    public const string GraphWrite = "graph:write";
    public const string PolicyRead = "policy:read";
    public const string PolicyWrite = "policy:write";
    public const string PolicyEvaluate = "policy:evaluate";
    public const string FleetRead = "fleet:read";
    public const string FleetWrite = "fleet:write";
    public const string FleetRun = "fleet:run";
    public const string EvidenceRead = "evidence:read";
    public const string EvidenceExport = "evidence:export";

    /// <summary>See the values of committed sensitive fields (approver comments, command output, secret parameters) in evidence bundles.</summary>
    public const string EvidenceReadSensitive = "evidence:read-sensitive";
    public const string PrincipalsRead = "principals:read";
    public const string AgentsWrite = "agents:write";
    public const string BindingsWrite = "bindings:write";

    /// <summary>Rotate identity's token signing key now (automatic rotation needs no caller).</summary>
    public const string KeysRotate = "keys:rotate";

    /// <summary>Check a package credential at fleet; only for the nodes a binding is scoped to (see fleet's README).</summary>
    public const string CredentialsIntrospect = "credentials:introspect";

    private static readonly string[] Reading = [ProposalsRead, GraphRead, PolicyRead, FleetRead, PolicyEvaluate];

    public static readonly FrozenDictionary<string, FrozenSet<string>> ByRole = new Dictionary<string, string[]>
    {
        [Roles.Viewer] = [.. Reading, EvidenceRead],
        // A proposer reads its own proposals (object-level check) and what the plane knows about targets.
        [Roles.Proposer] = [ProposalsSubmit, ProposalsRead, ProposalsCancel, GraphRead, PolicyRead, PolicyEvaluate],
        [Roles.Approver] = [.. Reading, ProposalsApprove, EvidenceRead],
        [Roles.Operator] = [.. Reading, ProposalsCancel, ScheduleOperate, EvidenceRead],
        [Roles.PolicyAdmin] = [PolicyRead, PolicyWrite, PolicyEvaluate, GraphRead],
        [Roles.GraphAdmin] = [GraphRead, GraphWrite],
        [Roles.FleetAdmin] = [FleetRead, FleetWrite, AgentsWrite, PrincipalsRead],
        [Roles.Auditor] = [.. Reading, EvidenceRead, EvidenceExport, PrincipalsRead, EvidenceReadSensitive],
        [Roles.Runner] = [FleetRun],
        [Roles.TargetSystem] = [CredentialsIntrospect],
        [Roles.Admin] =
        [
            .. Reading, ProposalsSubmit, ProposalsApprove, ProposalsCancel, ScheduleOperate, GraphWrite, PolicyWrite,
            FleetWrite, EvidenceRead, EvidenceExport, PrincipalsRead, AgentsWrite, BindingsWrite, KeysRotate,
            EvidenceReadSensitive,
        ],
    }.ToFrozenDictionary(kv => kv.Key, kv => kv.Value.ToFrozenSet(StringComparer.Ordinal), StringComparer.Ordinal);

    public static bool Grants(string role, string permission) =>
        ByRole.TryGetValue(role, out var granted) && granted.Contains(permission);
}

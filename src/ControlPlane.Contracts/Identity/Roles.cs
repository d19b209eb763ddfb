using System.Collections.Frozen;

namespace ControlPlane.Contracts;

/// <summary>The roles of DESIGN.md. A binding grants one role, globally or inside a scope.</summary>
public static class Roles
{
    public const string Viewer = "viewer";
    public const string Proposer = "proposer";
    public const string Approver = "approver";
    public const string Operator = "operator";
    public const string PolicyAdmin = "policy-admin";
    public const string GraphAdmin = "graph-admin";
    public const string FleetAdmin = "fleet-admin";
    public const string Auditor = "auditor";
    public const string Admin = "admin";

    /// <summary>Workload identity of a fleet runner: registers, heartbeats, reports results. Nothing else.</summary>
    public const string Runner = "runner";

    /// <summary>Workload identity of a target system (bound per node: target-system@node:billing): introspects package credentials presented to it.</summary>
    public const string TargetSystem = "target-system";

    public static readonly FrozenSet<string> All =
        new[] { Viewer, Proposer, Approver, Operator, PolicyAdmin, GraphAdmin, FleetAdmin, Auditor, Admin, Runner, TargetSystem }.ToFrozenSet(StringComparer.Ordinal);
}

using ControlPlane.Contracts;
using ControlPlane.Policy.Autonomy;
using ControlPlane.Policy.Bundles;
using ControlPlane.Policy.Data;
using static ControlPlane.Policy.Tests.Bundles.Facts;

namespace ControlPlane.Policy.Tests.Autonomy;

public sealed class AutonomyReportBuilderTests
{
    private static readonly CompiledPolicy Default = Compile(DefaultBundle.Yaml);

    private static AgentRecord Agent(string? fleet = "remediation", DateTimeOffset? revokedAt = null) =>
        new("ops-agent", "Ops agent", "sam@example.com", fleet, ["production", "dev"], ["restart", "drop-table"], revokedAt, Now);

    private static readonly FleetCapabilities Remediation = new("remediation", ["run-command", "run-command:restart-service"], 2, Now);

    // As orchestrator announces it: restart runs restart-service on remediation; nothing maps drop-table.
    private static readonly IReadOnlyList<ActionRoute> Routes = [new("restart", "remediation", "run-command", "restart-service")];

    [Fact]
    public void Every_environment_and_action_kind_gets_capability_and_a_verdict_per_profile()
    {
        var report = AutonomyReportBuilder.Build(Agent(), Routes, [Remediation], Default, Now);

        Assert.Equal([("dev", "drop-table"), ("dev", "restart"), ("production", "drop-table"), ("production", "restart")],
            report.Entries.Select(e => (e.Environment, e.ActionKind)));
        Assert.Equal(Default.Hash, report.Bundle!.Hash);
        Assert.Equal(["low-risk", "elevated", "worst-case"], report.Profiles.Select(p => p.Name));
        Assert.Contains("not against the live system graph", report.Basis, StringComparison.Ordinal);
        Assert.Empty(report.Notes);

        var prodRestart = report.Entries.Single(e => e is { Environment: "production", ActionKind: "restart" });
        Assert.True(prodRestart.Can.Capable);
        Assert.Equal([AutonomyLevel.Unattended, AutonomyLevel.WithApproval, AutonomyLevel.WithApproval], prodRestart.Allowed.Select(v => v.Autonomy));
        Assert.Equal(["approver"], prodRestart.Allowed[1].Approval!.Roles);

        var devRestart = report.Entries.Single(e => e is { Environment: "dev", ActionKind: "restart" });
        Assert.All(devRestart.Allowed, v => Assert.Equal(AutonomyLevel.Unattended, v.Autonomy));

        var prodDrop = report.Entries.Single(e => e is { Environment: "production", ActionKind: "drop-table" });
        Assert.False(prodDrop.Can.Capable);
        Assert.Equal("orchestrator maps no runner action to 'drop-table' (Orchestrator:Actions:drop-table)", prodDrop.Can.Basis);
        Assert.Equal("fleet 'remediation' runs run-command:restart-service (2 live runners at " + Now.ToString("O") + ")", prodRestart.Can.Basis);
        Assert.Equal(AutonomyLevel.NotAtAll, prodDrop.Allowed[2].Autonomy);
        Assert.Contains("deny-destructive-regulated-without-rollback", prodDrop.Allowed[2].RulesFired);
        Assert.StartsWith("cannot execute; allowed unattended when low-risk", prodDrop.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_a_policy_everything_is_not_at_all_and_the_note_says_why()
    {
        var report = AutonomyReportBuilder.Build(Agent(), Routes, [Remediation], null, Now);

        Assert.Null(report.Bundle);
        Assert.All(report.Entries.SelectMany(e => e.Allowed), v => Assert.Equal(AutonomyLevel.NotAtAll, v.Autonomy));
        Assert.Contains(report.Notes, n => n.Contains("fail closed", StringComparison.Ordinal));
    }

    [Fact]
    public void A_revoked_agent_an_unreported_fleet_or_an_unannounced_catalog_cannot_execute()
    {
        var revoked = AutonomyReportBuilder.Build(Agent(revokedAt: Now), Routes, [Remediation], Default, Now);
        var unreported = AutonomyReportBuilder.Build(Agent(), Routes, [], Default, Now);
        var noCatalog = AutonomyReportBuilder.Build(Agent(), [], [Remediation], Default, Now);

        Assert.All(revoked.Entries, e => Assert.Equal("the agent is revoked", e.Can.Basis));
        Assert.Equal("fleet 'remediation' has not reported its capabilities", unreported.Entries.Single(e => e is { Environment: "dev", ActionKind: "restart" }).Can.Basis);
        Assert.All(noCatalog.Entries, e => Assert.False(e.Can.Capable));
        Assert.Contains(noCatalog.Notes, n => n.Contains("action catalog", StringComparison.Ordinal));
    }

    [Fact]
    public void A_fleet_whose_runners_do_not_allow_list_the_command_cannot_execute()
    {
        var report = AutonomyReportBuilder.Build(Agent(), Routes, [Remediation with { ActionKinds = ["run-command", "run-command:rollback-service"] }], Default, Now);

        Assert.Equal("no runner of fleet 'remediation' allow-lists run-command:restart-service",
            report.Entries.Single(e => e is { Environment: "dev", ActionKind: "restart" }).Can.Basis);
    }

    [Fact]
    public void A_fleet_without_live_runners_cannot_execute()
    {
        var report = AutonomyReportBuilder.Build(Agent(), Routes, [Remediation with { LiveRunners = 0 }], Default, Now);

        Assert.Equal("fleet 'remediation' allow-lists run-command:restart-service but has no live runner", report.Entries.Single(e => e is { Environment: "dev", ActionKind: "restart" }).Can.Basis);
    }
}

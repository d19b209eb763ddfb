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

    private static readonly FleetCapabilities Remediation = new("remediation", ["restart"], 2, Now);

    [Fact]
    public void Every_environment_and_action_kind_gets_capability_and_a_verdict_per_profile()
    {
        var report = AutonomyReportBuilder.Build(Agent(), Remediation, Default, Now);

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
        Assert.Equal("fleet 'remediation' has no runner for 'drop-table'", prodDrop.Can.Basis);
        Assert.Equal(AutonomyLevel.NotAtAll, prodDrop.Allowed[2].Autonomy);
        Assert.Contains("deny-destructive-regulated-without-rollback", prodDrop.Allowed[2].RulesFired);
        Assert.StartsWith("cannot execute; allowed unattended when low-risk", prodDrop.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_a_policy_everything_is_not_at_all_and_the_note_says_why()
    {
        var report = AutonomyReportBuilder.Build(Agent(), Remediation, null, Now);

        Assert.Null(report.Bundle);
        Assert.All(report.Entries.SelectMany(e => e.Allowed), v => Assert.Equal(AutonomyLevel.NotAtAll, v.Autonomy));
        Assert.Contains(report.Notes, n => n.Contains("fail closed", StringComparison.Ordinal));
    }

    [Fact]
    public void A_revoked_agent_or_an_unreported_fleet_cannot_execute()
    {
        var revoked = AutonomyReportBuilder.Build(Agent(revokedAt: Now), Remediation, Default, Now);
        var unreported = AutonomyReportBuilder.Build(Agent(), null, Default, Now);
        var fleetless = AutonomyReportBuilder.Build(Agent(fleet: null), null, Default, Now);

        Assert.All(revoked.Entries, e => Assert.Equal("the agent is revoked", e.Can.Basis));
        Assert.All(unreported.Entries, e => Assert.False(e.Can.Capable));
        Assert.Contains(unreported.Notes, n => n.Contains("has not reported", StringComparison.Ordinal));
        Assert.All(fleetless.Entries, e => Assert.Equal("the agent belongs to no fleet", e.Can.Basis));
    }

    [Fact]
    public void A_fleet_without_live_runners_cannot_execute()
    {
        var report = AutonomyReportBuilder.Build(Agent(), Remediation with { LiveRunners = 0 }, Default, Now);

        Assert.Equal("fleet 'remediation' handles 'restart' but has no live runner", report.Entries.Single(e => e is { Environment: "dev", ActionKind: "restart" }).Can.Basis);
    }
}

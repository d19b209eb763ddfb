using ControlPlane.Chaos.Tests.Burst;
using ControlPlane.Contracts;

namespace ControlPlane.Chaos.Tests;

/// <summary>The report's arithmetic: what counts as lost, stuck, executed twice and failed for a transient reason.</summary>
public sealed class ChaosReportTests
{
    private static readonly Guid P1 = Guid.NewGuid();
    private static readonly Guid P2 = Guid.NewGuid();
    private static readonly Guid W1 = Guid.NewGuid();
    private static readonly Guid W2 = Guid.NewGuid();

    [Fact]
    public void The_runner_record_is_parsed_from_the_demo_commands_lines()
    {
        var lines = new[] { $"2026-12-04T15:00:00Z work={W1} proposal={P1}", "garbage", $"2026-12-04T15:00:01Z work={W2} proposal={P2} rolling restart for sha256:ab" };

        var parsed = RunnerExecutions.Parse("runner-remediation-1", "search", "restarts", lines).ToList();

        Assert.Equal([(W1, P1), (W2, P2)], parsed.Select(e => (e.WorkId, e.ProposalId)));
    }

    [Fact]
    public void The_same_package_twice_and_the_same_change_under_two_packages_are_both_executed_twice()
    {
        var twice = new[] { Run(W1, P1, "restarts"), Run(W1, P1, "restarts"), Run(W2, P2, "deploys"), Run(W2, P2, "restarts") };
        var reoffered = new[] { Run(W1, P1, "restarts"), Run(W2, P1, "restarts") };
        var rolledBack = new[] { Run(W1, P1, "restarts"), Run(W2, P1, "rollbacks") };

        Assert.Equal([W1], RunnerExecutions.PackagesRunTwice(twice));
        Assert.Empty(RunnerExecutions.ChangesRunTwice(twice.Skip(1))); // a deploy records its rolling restart under the same work id
        Assert.Equal([P1], RunnerExecutions.ChangesRunTwice(reoffered));
        Assert.Empty(RunnerExecutions.ChangesRunTwice(rolledBack));
    }

    [Fact]
    public void Unknown_ended_never_and_completed_without_a_runner_record_miss_the_goals()
    {
        var p3 = Guid.NewGuid();
        var outcomes = new[]
        {
            new ProposalOutcome(0, "dev", P1, null, ProposalState.Completed, "verified"),
            new ProposalOutcome(1, "dev", P2, null, ProposalState.Executing, null),
            new ProposalOutcome(2, "production", p3, null, null, null),
            new ProposalOutcome(3, "dev", Guid.NewGuid(), null, ProposalState.Failed, "fleet's signing keys could not be fetched: Connection refused"),
            new ProposalOutcome(4, "dev", Guid.NewGuid(), null, ProposalState.Completed, "verified"),
        };

        var report = ChaosReport.From(outcomes, [Run(W1, P1, "restarts")], evidenceVerified: true, 12, []);

        Assert.Equal((5, 2, 1), (report.Accepted, report.Completed, report.TransientFailures));
        Assert.Single(report.Stuck);
        Assert.Equal(2, report.Lost.Count); // p3 unknown, index 4 completed without any runner having run it
        Assert.Equal(3, report.MissedGoals().Count); // lost, stuck, failed for a transient reason
        Assert.Contains("failed ×1 [transient]", report.Print(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_clean_run_meets_every_goal_and_an_unverified_chain_does_not()
    {
        var outcomes = new[] { new ProposalOutcome(0, "dev", P1, null, ProposalState.Completed, "verified") };

        Assert.Empty(ChaosReport.From(outcomes, [Run(W1, P1, "restarts")], true, 3, []).MissedGoals());
        Assert.Single(ChaosReport.From(outcomes, [Run(W1, P1, "restarts")], false, 3, []).MissedGoals());
        Assert.False(ChaosReport.IsTransient("runner refused: stale fence 112 < 114"));
    }

    private static Execution Run(Guid work, Guid proposal, string kind) => new("runner-remediation-1", "search", kind, work, proposal);
}

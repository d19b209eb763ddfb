using ControlPlane.Evidence.Autonomy;

namespace ControlPlane.Evidence.Tests.Autonomy;

/// <summary>The pure formulas: percentiles, unattended completion, rates and denied bursts.</summary>
public sealed class AutonomyCalculatorTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 4, 10, 0, 0, TimeSpan.Zero);

    private static ProposalFacts Proposal(string state, string agent = "a", DateTimeOffset? stateAt = null, bool approvalRequired = false, bool humanDecided = false,
        bool executed = false, bool verificationFailed = false, bool rolledBack = false) =>
        new(Guid.NewGuid(), agent, "staging", "restart", T0, state, stateAt ?? T0, null, approvalRequired, humanDecided, executed,
            state == "completed" ? T0.AddSeconds(1) : null, verificationFailed, rolledBack);

    [Theory]
    [InlineData(new double[] { 5 }, 50, 5)]
    [InlineData(new double[] { 1, 2, 3, 4 }, 50, 2)]
    [InlineData(new double[] { 1, 2, 3, 4 }, 95, 4)]
    [InlineData(new double[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20 }, 95, 19)]
    public void Percentiles_are_nearest_rank(double[] sorted, double p, double expected) =>
        Assert.Equal(expected, AutonomyCalculator.Percentile(sorted, p));

    [Fact]
    public void Nothing_to_measure_is_null_not_zero()
    {
        var metrics = AutonomyCalculator.Compute(T0, T0.AddDays(1), [], [], []);

        Assert.Null(AutonomyCalculator.Percentile([], 50));
        Assert.Null(metrics.AutonomyRate);
        Assert.Null(metrics.ChangeFailureRate);
        Assert.Null(metrics.TimeToComplete.P50Ms);
        Assert.Null(metrics.Approvals.OldestWaitingSince);
        Assert.Equal(0, metrics.Totals.Proposals);
    }

    [Fact]
    public void A_completion_is_unattended_only_when_no_approval_was_asked_and_nobody_decided()
    {
        Assert.True(AutonomyCalculator.IsUnattended(Proposal("completed")));
        Assert.False(AutonomyCalculator.IsUnattended(Proposal("completed", approvalRequired: true)));
        Assert.False(AutonomyCalculator.IsUnattended(Proposal("completed", humanDecided: true)));
        Assert.False(AutonomyCalculator.IsUnattended(Proposal("failed")));
    }

    [Fact]
    public void A_failed_verification_and_a_rollback_of_one_proposal_count_once_toward_the_change_failure_rate()
    {
        var metrics = AutonomyCalculator.Compute(T0, T0.AddDays(1),
        [
            Proposal("failed", executed: true, verificationFailed: true, rolledBack: true),
            Proposal("completed", executed: true),
            Proposal("denied"),
        ], [], []);

        Assert.Equal(0.5, metrics.ChangeFailureRate);
        Assert.Equal(0.5, metrics.RollbackRate);
        Assert.Equal(1.0, metrics.AutonomyRate);
    }

    [Fact]
    public void Five_denials_within_ten_minutes_are_a_burst_four_or_a_wider_spread_are_not()
    {
        var burst = Enumerable.Range(0, 6).Select(i => Proposal("denied", "noisy", T0.AddMinutes(i * 2))).ToList(); // 0..10 min: 5 inside [0, 10)
        var spread = Enumerable.Range(0, 5).Select(i => Proposal("denied", "calm", T0.AddMinutes(i * 3))).ToList(); // 0..12 min
        var few = Enumerable.Range(0, 4).Select(i => Proposal("denied", "few", T0.AddSeconds(i))).ToList();

        var bursts = AutonomyCalculator.DeniedBursts([.. burst, .. spread, .. few]);

        var only = Assert.Single(bursts);
        Assert.Equal("noisy", only.Agent);
        Assert.Equal(5, only.Denied);
        Assert.Equal(T0, only.WindowStart);
    }
}

using ControlPlane.Policy.Autonomy;
using ControlPlane.Policy.Bundles;
using ControlPlane.Policy.Tests.Bundles;
using static ControlPlane.Policy.Tests.TrackRecord.EarnedAutonomyBundle;

namespace ControlPlane.Policy.Tests.TrackRecord;

public sealed class EarnedAutonomyTests
{
    private static readonly DateTimeOffset Now = Facts.Now;

    private static EarnedAutonomy Earned(IReadOnlyList<TrackOutcome> outcomes) =>
        EarnedAutonomyBuilder.Of(Facts.Compile(Yaml), [Restart(null)], outcomes, Now)!;

    [Fact]
    public void Seven_successes_and_a_rollback_eighteen_days_ago_leave_thirteen_successes_and_twelve_days_to_earn()
    {
        var earned = Earned([.. Successes(7, Now, TimeSpan.FromDays(1)), RolledBack(Now - TimeSpan.FromDays(18))]);

        Assert.Equal("13 more verified successes in 30d; no rollback for 12 more days", earned.Summary);
        var standing = Assert.Single(earned.Windows);
        Assert.Equal(new TrackRecordStanding("30d", 7, 1, 1), standing);
        Assert.Equal(Now + TimeSpan.FromDays(12), earned.ToEarn.First(s => s.Until is not null).Until);
        Assert.Contains(earned.ToEarn, s => s is { RuleId: "staging-restart-earned", Condition: "verified-successes-at-least", MoreVerifiedSuccesses: 13 });
        Assert.Contains(earned.ToEarn, s => s is { RuleId: "staging-restart-until-earned", Condition: "verified-successes-below", MoreVerifiedSuccesses: 13 });
    }

    [Fact]
    public void An_agent_that_earned_autonomy_has_nothing_left_to_earn()
    {
        var earned = Earned([.. Successes(21, Now, TimeSpan.FromHours(1))]);

        Assert.Equal(EarnedAutonomyBuilder.NothingLeft, earned.Summary);
        Assert.Empty(earned.ToEarn);
        Assert.Equal(21, earned.Windows[0].VerifiedSuccesses);
    }

    [Fact]
    public void A_policy_without_track_record_rules_reports_no_earned_autonomy()
    {
        var plain = Facts.Compile("""
            rules:
              - id: dev-autonomous
                match: { environments: [dev] }
                outcome: allow
            """);

        Assert.Null(EarnedAutonomyBuilder.Of(plain, [Restart(null)], [], Now));
        Assert.Null(EarnedAutonomyBuilder.Of(null, [Restart(null)], [], Now));
    }

    [Fact]
    public void Rollbacks_clear_when_enough_of_the_oldest_leave_the_window()
    {
        var window = TimeSpan.FromDays(30);
        DateTimeOffset? Ago(int days) => Now - TimeSpan.FromDays(days);

        Assert.Equal(Now + TimeSpan.FromDays(5), EarnedAutonomyBuilder.ClearsAt([Ago(3), Ago(25), Ago(40)], 1, window, Now));
        Assert.Equal(Now + TimeSpan.FromDays(27), EarnedAutonomyBuilder.ClearsAt([Ago(3), Ago(25)], 0, window, Now));
        Assert.Null(EarnedAutonomyBuilder.ClearsAt([Ago(3), null], 1, window, Now));
    }
}

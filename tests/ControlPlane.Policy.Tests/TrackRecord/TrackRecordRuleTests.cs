using ControlPlane.Contracts;
using ControlPlane.Policy.Bundles;
using ControlPlane.Policy.Tests.Bundles;
using ControlPlane.Testing;
using static ControlPlane.Policy.Tests.TrackRecord.EarnedAutonomyBundle;

namespace ControlPlane.Policy.Tests.TrackRecord;

public sealed class TrackRecordRuleTests
{
    private static readonly TimeSpan Days30 = TimeSpan.FromDays(30);
    private static readonly DateTimeOffset Now = Facts.Now;

    private static PolicyDecision Decide(IEnumerable<TrackOutcome> outcomes, DateTimeOffset? at = null, string? agent = Agent)
    {
        var policy = Facts.Compile(Yaml);
        var now = at ?? Now;
        return PolicyEvaluator.Decide(policy, Restart(TrackRecordFacts.From(outcomes, policy.TrackRecordWindows, now), agent), now);
    }

    [Fact]
    public void The_track_record_block_parses_into_its_conditions_and_the_windows_the_decision_counts()
    {
        var policy = Facts.Compile(Yaml);

        Assert.Equal(new TrackRecordMatch(Days30, VerifiedSuccessesAtLeast: 20, RollbacksAtMost: 0), policy.Bundle.Rules[2].Match.TrackRecord);
        Assert.Equal(new TrackRecordMatch(Days30, VerifiedSuccessesBelow: 20), policy.Bundle.Rules[0].Match.TrackRecord);
        Assert.Equal([Days30], policy.TrackRecordWindows);
    }

    [Theory]
    [InlineData("{ window: 30d, rollbacks-at-most: 0, successes: 3 }", "$.rules[0].match.track-record.successes", "unknown key 'successes'")]
    [InlineData("{ verified-successes-at-least: 3 }", "$.rules[0].match.track-record.window", "'window' is required")]
    [InlineData("{ window: 40x, rollbacks-at-most: 0 }", "$.rules[0].match.track-record.window", "window '40x' must be a duration")]
    [InlineData("{ window: 400d, rollbacks-at-most: 0 }", "$.rules[0].match.track-record.window", "at most 365d")]
    [InlineData("{ window: 30d }", "$.rules[0].match.track-record", "needs a count condition besides 'window'")]
    [InlineData("{ window: 30d, verified-successes-at-least: 20, verified-successes-below: 20 }", "$.rules[0].match.track-record", "can never both hold")]
    [InlineData("{ window: 30d, rollbacks-at-least: 2, rollbacks-at-most: 1 }", "$.rules[0].match.track-record", "can never both hold")]
    [InlineData("{ window: 30d, failures-at-most: -1 }", "$.rules[0].match.track-record.failures-at-most", "whole number from 0")]
    [InlineData("{ window: 30d, verified-successes-below: 0 }", "$.rules[0].match.track-record.verified-successes-below", "whole number from 1")]
    [InlineData("[30d]", "$.rules[0].match.track-record", "must be a mapping")]
    public void A_bad_track_record_block_is_an_error_with_its_path_and_rule(string block, string path, string message)
    {
        var result = BundleParser.Parse($"""
            rules:
              - id: earned
                match:
                  track-record: {block}
                outcome: allow
            """);

        Assert.False(result.IsValid);
        var error = Assert.Single(result.Errors);
        Assert.Equal(path, error.Path);
        Assert.Equal("earned", error.RuleId);
        Assert.Equal(4, error.Line);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Nineteen_verified_successes_still_need_an_approver_and_the_reason_says_how_many_of_twenty()
    {
        var decision = Decide(Successes(19, Now, TimeSpan.FromHours(1)));

        Assert.Equal(DecisionOutcome.RequireApproval, decision.Outcome);
        Assert.Equal(["staging-restart-until-earned"], decision.RulesFired);
        Assert.Contains("agent ops-agent has 19 of 20 verified successes for restart in staging in 30d", Assert.Single(decision.Reasons), StringComparison.Ordinal);
    }

    [Fact]
    public void Twenty_verified_successes_without_a_rollback_run_unattended()
    {
        var decision = Decide(Successes(20, Now, TimeSpan.FromHours(1)));

        Assert.Equal(DecisionOutcome.Allow, decision.Outcome);
        Assert.Equal(["staging-restart-earned"], decision.RulesFired);
        Assert.Contains("agent ops-agent has 20 verified successes for restart in staging in 30d", decision.Reasons[0], StringComparison.Ordinal);
        Assert.Contains("agent ops-agent has 0 rollbacks for restart in staging in 30d, at most 0", decision.Reasons[0], StringComparison.Ordinal);
    }

    [Fact]
    public void A_success_leaves_the_window_exactly_one_window_after_it_happened()
    {
        var justInside = Successes(19, Now, TimeSpan.FromHours(1)).Append(new TrackOutcome(true, Now - Days30 + TimeSpan.FromSeconds(1), null));
        var justOutside = Successes(19, Now, TimeSpan.FromHours(1)).Append(new TrackOutcome(true, Now - Days30, null));

        Assert.Equal(DecisionOutcome.Allow, Decide(justInside).Outcome);
        Assert.Equal(DecisionOutcome.RequireApproval, Decide(justOutside).Outcome);
        Assert.Equal(19, TrackRecordFacts.From(justOutside, [Days30], Now).In(Days30)!.VerifiedSuccesses);
    }

    [Fact]
    public void A_rollback_takes_autonomy_back_until_it_leaves_the_window()
    {
        var rollbackAt = Now - TimeSpan.FromDays(2);
        var outcomes = Successes(25, Now, TimeSpan.FromHours(1)).Append(RolledBack(rollbackAt)).ToList();

        var afterRollback = Decide(outcomes);
        // Later decisions: the successes are kept recent, the rollback ages.
        IEnumerable<TrackOutcome> At(DateTimeOffset now) => outcomes.Select(o => o.Verified == true ? o with { At = o.At + (now - Now) } : o);
        var justBefore = Decide(At(rollbackAt + Days30 - TimeSpan.FromSeconds(1)), at: rollbackAt + Days30 - TimeSpan.FromSeconds(1));
        var whenItLeaves = Decide(At(rollbackAt + Days30), at: rollbackAt + Days30);

        Assert.Equal(DecisionOutcome.RequireApproval, afterRollback.Outcome);
        Assert.Equal(["staging-restart-after-rollback"], afterRollback.RulesFired);
        Assert.Contains("agent ops-agent has 1 rollback for restart in staging in 30d, at least 1", Assert.Single(afterRollback.Reasons), StringComparison.Ordinal);
        Assert.Equal(DecisionOutcome.RequireApproval, justBefore.Outcome);
        Assert.Equal(DecisionOutcome.Allow, whenItLeaves.Outcome);
    }

    [Fact]
    public void A_failure_counts_in_the_window_and_a_rolled_back_change_is_no_success()
    {
        var facts = TrackRecordFacts.From([new TrackOutcome(true, Now, null), new TrackOutcome(false, Now, Now), new TrackOutcome(false, Now, null), new TrackOutcome(null, null, null)],
            [Days30, TimeSpan.FromDays(7)], Now);

        Assert.Equal([TimeSpan.FromDays(7), Days30], facts.Windows.Select(w => w.Window));
        Assert.Equal(new TrackRecordWindow(Days30, 1, 2, 1), facts.In(Days30));
        Assert.Null(facts.In(TimeSpan.FromDays(1)));
    }

    [Fact]
    public void An_unknown_agent_or_an_unknown_record_has_earned_nothing()
    {
        var record = Successes(30, Now, TimeSpan.FromHours(1));

        var noAgent = Decide(record, agent: null);
        var noRecord = PolicyEvaluator.Decide(Facts.Compile(Yaml), Restart(null), Now);

        Assert.Equal(DecisionOutcome.RequireApproval, noAgent.Outcome);
        Assert.Contains("an unknown agent (no track record) has 0 of 20 verified successes", noAgent.Reasons[0], StringComparison.Ordinal);
        Assert.Equal(DecisionOutcome.RequireApproval, noRecord.Outcome);
        Assert.Contains("agent ops-agent has 0 of 20 verified successes", noRecord.Reasons[0], StringComparison.Ordinal);
    }

    [Fact]
    public void A_bundle_without_track_record_keeps_its_hash_and_uses_no_window()
    {
        var plain = """
            rules:
              - id: dev-autonomous
                match: { environments: [dev] }
                outcome: allow
            """;

        var policy = Facts.Compile(plain);

        Assert.Empty(policy.TrackRecordWindows);
        Assert.DoesNotContain("trackRecord", CanonicalJson.ToText(policy.Bundle), StringComparison.Ordinal);
    }

    [Fact]
    public void Track_record_conditions_match_without_allocating_per_rule()
    {
        static CompiledPolicy Bundle(int rules) => Facts.Compile("rules:\n" + string.Concat(Enumerable.Range(0, rules).Select(i => $$"""
              - id: earned-{{i}}
                match: { actions: [restart], environments: [staging], track-record: { window: {{1 + (i % 3)}}d, verified-successes-at-least: 1000, failures-at-most: 0 } }
                outcome: allow

            """)));
        var facts = Restart(TrackRecordFacts.From(Successes(30, Now, TimeSpan.FromMinutes(1)), [TimeSpan.FromDays(1), TimeSpan.FromDays(2), TimeSpan.FromDays(3)], Now));
        var (one, many) = (Bundle(1), Bundle(150));
        long Allocated(CompiledPolicy policy)
        {
            PolicyEvaluator.Decide(policy, facts, Now);
            var before = GC.GetAllocatedBytesForCurrentThread();
            var decision = PolicyEvaluator.Decide(policy, facts, Now);
            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

            // Asserted outside the measured span: xUnit's first comparison of a type in the process fills its caches.
            Assert.Equal(PolicyEvaluator.NoRuleReason, Assert.Single(decision.Reasons));
            return allocated;
        }

        // Every rule's track-record conditions are tested (the names match, the successes do not): the cost must not grow with the rules.
        Assert.Equal(Allocated(one), Allocated(many));
    }

    [Fact]
    public void The_readme_example_is_the_bundle_these_tests_decide_with()
    {
        // The README's runnable example extracts the block from "name: earned-autonomy" to the closing fence.
        var readme = File.ReadAllLines(Path.Combine(RepositoryRoot.Path, "src", "ControlPlane.Policy", "README.md"));
        var example = string.Join('\n', readme.SkipWhile(l => l != "name: earned-autonomy").TakeWhile(l => !l.StartsWith("```", StringComparison.Ordinal)));

        Assert.Equal(Facts.Compile(Yaml).Hash, Facts.Compile(example).Hash);
    }
}

using ControlPlane.Policy.Bundles;

namespace ControlPlane.Policy.Tests.TrackRecord;

/// <summary>The README's earned-autonomy example: staging restarts need approval until earned, and a rollback takes it back.</summary>
internal static class EarnedAutonomyBundle
{
    public const string Agent = "ops-agent";

    public const string Yaml = """
        name: earned-autonomy
        rules:
          - id: staging-restart-until-earned
            description: staging restarts need an approver until the agent has earned them
            match:
              actions: [restart]
              environments: [staging]
              track-record: { window: 30d, verified-successes-below: 20 }
            outcome: require-approval
            approval: { count: 1, roles: [approver], expiry: 8h }
          - id: staging-restart-after-rollback
            description: a rollback takes the agent's autonomy back
            match:
              actions: [restart]
              environments: [staging]
              track-record: { window: 30d, rollbacks-at-least: 1 }
            outcome: require-approval
            approval: { count: 1, roles: [approver], expiry: 8h }
          - id: staging-restart-earned
            description: 20 verified staging restarts and no rollback in 30 days run unattended
            match:
              actions: [restart]
              environments: [staging]
              track-record: { window: 30d, verified-successes-at-least: 20, rollbacks-at-most: 0 }
            outcome: allow
        """;

    public static PolicyFacts Restart(TrackRecordFacts? record, string? agent = Agent) =>
        new("restart", "staging", agent, true, 3, false, ["public"], 0, false, false, TrackRecord: record);

    /// <summary>count verified successes, the i-th (i from 1) <paramref name="spacing"/> × i before <paramref name="now"/>.</summary>
    public static IEnumerable<TrackOutcome> Successes(int count, DateTimeOffset now, TimeSpan spacing) =>
        Enumerable.Range(1, count).Select(i => new TrackOutcome(true, now - spacing * i, null));

    public static TrackOutcome RolledBack(DateTimeOffset at) => new(false, at, at);
}

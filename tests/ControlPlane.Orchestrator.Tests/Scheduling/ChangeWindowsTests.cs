using ControlPlane.Contracts;
using ControlPlane.Orchestrator.Scheduling;
using ControlPlane.ServiceDefaults.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace ControlPlane.Orchestrator.Tests.Scheduling;

/// <summary>The pure window evaluator (cron, duration and time zone across DST, deny beats allow, allow-only, scope, dependents) and the dependents resolver failing closed.</summary>
public sealed class ChangeWindowsTests
{
    private static readonly ChangeScope ProductionBilling = new("production", ["billing"], ["payments"]);

    private static ChangeWindow Window(string name, string kind, string schedule, string duration, string zone = "UTC", string[]? environments = null,
        string[]? nodes = null, string[]? teams = null, bool extends = false) => new(
        Guid.NewGuid(), name, kind, schedule, duration, zone, new ChangeWindowScope(environments ?? ["*"], nodes ?? ["*"], teams ?? ["*"]), extends, null,
        "olga@example.com", DateTimeOffset.Parse("2026-01-01T00:00:00Z"));

    private static DateTimeOffset At(string utc) => DateTimeOffset.Parse(utc);

    private static readonly ChangeWindow QuarterEnd = Window("quarter-end freeze", ChangeWindowKinds.Deny, "0 18 * * 5", "64h", "Europe/Berlin", ["production"]);

    [Fact]
    public void A_deny_window_holds_its_scope_from_its_cron_time_in_its_zone_for_its_duration_and_says_until_when()
    {
        // Friday 2026-12-04 18:00 in Berlin (CET, UTC+1) is 17:00 UTC; 64 hours later is Monday 09:00 UTC.
        var held = ChangeWindows.Evaluate([QuarterEnd], ProductionBilling, At("2026-12-05T12:00:00Z"));

        Assert.False(held.Open);
        Assert.Equal("deny window 'quarter-end freeze' (0 18 * * 5, 64h, Europe/Berlin) holds production until 2026-12-07 09:00 UTC", held.Reason);
        Assert.Equal(At("2026-12-07T09:00:00Z"), held.NextOpening);
        Assert.Equal(QuarterEnd.Id, Assert.Single(held.Deciding).Id);

        Assert.True(ChangeWindows.Evaluate([QuarterEnd], ProductionBilling, At("2026-12-04T16:59:59Z")).Open);
        Assert.False(ChangeWindows.Evaluate([QuarterEnd], ProductionBilling, At("2026-12-04T17:00:00Z")).Open);
        Assert.True(ChangeWindows.Evaluate([QuarterEnd], ProductionBilling, At("2026-12-07T09:00:00Z")).Open);
        Assert.True(ChangeWindows.Evaluate([QuarterEnd], ProductionBilling with { Environment = "staging" }, At("2026-12-05T12:00:00Z")).Open);
    }

    [Fact]
    public void The_cron_time_follows_the_zone_across_a_DST_change_and_the_duration_is_elapsed_time()
    {
        var daily = CompiledWindow.Compile(Window("morning", ChangeWindowKinds.Deny, "0 9 * * *", "1h", "Europe/Berlin"));

        // 09:00 Berlin is 08:00 UTC before the change on 2026-03-29 and 07:00 UTC after it.
        Assert.True(daily.IsOpen(At("2026-03-27T08:30:00Z")));
        Assert.False(daily.IsOpen(At("2026-03-30T08:30:00Z")));
        Assert.True(daily.IsOpen(At("2026-03-30T07:30:00Z")));
        Assert.Equal(At("2026-03-30T08:00:00Z"), daily.OpenUntil(At("2026-03-30T07:30:00Z")));

        // A day-long window starting at midnight on the short day ends 24 elapsed hours later: 01:00 local the next day.
        var sunday = CompiledWindow.Compile(Window("sunday", ChangeWindowKinds.Deny, "0 0 * * 0", "24h", "Europe/Berlin"));
        Assert.Equal(At("2026-03-29T23:00:00Z"), sunday.OpenUntil(At("2026-03-29T12:00:00Z")));

        // 02:30 does not exist in Berlin on 2026-03-29: the occurrence moves to the first valid time after the gap (03:00 CEST).
        var skipped = CompiledWindow.Compile(Window("night", ChangeWindowKinds.Deny, "30 2 * * *", "1h", "Europe/Berlin"));
        Assert.Equal(At("2026-03-29T01:00:00Z"), skipped.NextStart(At("2026-03-28T23:00:00Z")));
    }

    [Fact]
    public void Deny_beats_an_open_allow_window()
    {
        var always = Window("always", ChangeWindowKinds.Allow, "* * * * *", "1h");

        var verdict = ChangeWindows.Evaluate([always, QuarterEnd], ProductionBilling, At("2026-12-05T12:00:00Z"));

        Assert.False(verdict.Open);
        Assert.Equal(QuarterEnd.Id, Assert.Single(verdict.Deciding).Id);
        Assert.StartsWith("deny window 'quarter-end freeze'", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void When_an_allow_window_applies_changes_start_only_inside_one()
    {
        var weeknights = Window("weeknights", ChangeWindowKinds.Allow, "0 22 * * 1-5", "6h", environments: ["production"]);

        // Tuesday 2026-12-08 noon: outside; it opens at 22:00.
        var outside = ChangeWindows.Evaluate([weeknights], ProductionBilling, At("2026-12-08T12:00:00Z"));
        Assert.False(outside.Open);
        Assert.Equal("production may change only inside allow window 'weeknights' (0 22 * * 1-5, 6h, UTC)", outside.Reason);
        Assert.Equal(At("2026-12-08T22:00:00Z"), outside.NextOpening);

        var inside = ChangeWindows.Evaluate([weeknights], ProductionBilling, At("2026-12-09T03:59:00Z"));
        Assert.True(inside.Open);
        Assert.Equal(weeknights.Id, Assert.Single(inside.Deciding).Id);

        // Saturday 2026-12-12: Friday's window ended at 04:00; the next opens Monday 22:00.
        Assert.Equal(At("2026-12-14T22:00:00Z"), ChangeWindows.Evaluate([weeknights], ProductionBilling, At("2026-12-12T10:00:00Z")).NextOpening);

        // No window applies to staging: open, nothing decided it.
        var staging = ChangeWindows.Evaluate([weeknights], ProductionBilling with { Environment = "staging" }, At("2026-12-08T12:00:00Z"));
        Assert.True(staging.Open);
        Assert.Empty(staging.Deciding);
    }

    [Fact]
    public void The_next_opening_skips_a_deny_that_ends_outside_every_allow_window()
    {
        var weeknights = Window("weeknights", ChangeWindowKinds.Allow, "0 22 * * 1-5", "6h", environments: ["production"]);

        // The freeze ends Monday 09:00 UTC, but production may only change from Monday 22:00.
        var verdict = ChangeWindows.Evaluate([weeknights, QuarterEnd], ProductionBilling, At("2026-12-05T12:00:00Z"));

        Assert.False(verdict.Open);
        Assert.Equal(At("2026-12-07T22:00:00Z"), verdict.NextOpening);
    }

    [Theory]
    [InlineData(new[] { "*" }, new[] { "*" }, new[] { "*" }, "production")]
    [InlineData(new[] { "production" }, new[] { "billing" }, new[] { "*" }, "billing in production")]
    [InlineData(new[] { "*" }, new[] { "*" }, new[] { "payments" }, "production")]
    [InlineData(new[] { "staging" }, new[] { "*" }, new[] { "*" }, null)]
    [InlineData(new[] { "*" }, new[] { "search" }, new[] { "*" }, null)]
    [InlineData(new[] { "*" }, new[] { "*" }, new[] { "search-team" }, null)]
    public void A_window_applies_when_every_scope_list_matches(string[] environments, string[] nodes, string[] teams, string? holds)
    {
        var window = CompiledWindow.Compile(Window("scoped", ChangeWindowKinds.Deny, "* * * * *", "1h", environments: environments, nodes: nodes, teams: teams));

        Assert.Equal(holds, window.Holds(ProductionBilling));
    }

    [Fact]
    public void Unknown_owner_teams_are_held_by_a_team_scoped_deny_window()
    {
        var window = CompiledWindow.Compile(Window("payments freeze", ChangeWindowKinds.Deny, "* * * * *", "1h", teams: ["payments"]));

        Assert.Equal("production", window.Holds(ProductionBilling with { Teams = null }));
    }

    [Fact]
    public void A_freeze_that_extends_to_dependents_holds_changes_to_the_nodes_that_depend_on_its_node()
    {
        // checkout and reporting depend on billing (system-graph's impact of billing lists them); billing depends on ledger-db.
        var extending = Window("billing freeze", ChangeWindowKinds.Deny, "* * * * *", "1h", nodes: ["billing"], extends: true);
        var resolved = CompiledWindow.Compile(extending).WithDependents(new Dictionary<string, IReadOnlyList<string>> { ["billing"] = ["checkout", "reporting"] });
        var plain = CompiledWindow.Compile(extending with { Id = Guid.NewGuid(), ExtendsToDependents = false });
        var at = At("2026-12-05T12:00:00Z");

        var held = ChangeWindows.Evaluate([resolved], new ChangeScope("production", ["checkout", "search"], ["payments"]), at);
        Assert.False(held.Open);
        Assert.Equal("deny window 'billing freeze' (* * * * *, 1h, UTC) holds checkout in production (it depends on billing) with no end in sight", held.Reason);
        Assert.Null(held.NextOpening);

        Assert.False(ChangeWindows.Evaluate([resolved], ProductionBilling, at).Open); // the frozen node itself
        Assert.True(ChangeWindows.Evaluate([resolved], new ChangeScope("production", ["ledger-db"], ["payments"]), at).Open); // what billing depends on
        Assert.True(ChangeWindows.Evaluate([resolved], new ChangeScope("production", ["search"], ["search-team"]), at).Open);
        Assert.True(ChangeWindows.Evaluate([plain], new ChangeScope("production", ["checkout"], ["payments"]), at).Open);
        Assert.Equal("reporting, checkout in production (they depend on billing)",
            resolved.Holds(new ChangeScope("production", ["reporting", "checkout"], ["payments"])));
    }

    [Fact]
    public void A_freeze_whose_dependents_cannot_be_resolved_holds_every_change_in_its_environments_and_says_why()
    {
        var window = CompiledWindow.Compile(Window("billing freeze", ChangeWindowKinds.Deny, "* * * * *", "1h", environments: ["production"], nodes: ["billing"], extends: true));
        var unreachable = window.WithDependentsUnresolved("system-graph unreachable");
        var at = At("2026-12-05T12:00:00Z");

        var held = ChangeWindows.Evaluate([unreachable], new ChangeScope("production", ["search"], ["search-team"]), at);
        Assert.False(held.Open);
        Assert.Equal("deny window 'billing freeze' (* * * * *, 1h, UTC) holds search in production (cannot resolve the dependents of billing: " +
            "system-graph unreachable; held until they can be) with no end in sight", held.Reason);
        Assert.True(ChangeWindows.Evaluate([unreachable], new ChangeScope("staging", ["search"], ["search-team"]), at).Open);
        Assert.False(ChangeWindows.Evaluate([window], new ChangeScope("production", ["search"], ["search-team"]), at).Open); // never resolved
    }

    [Fact]
    public async Task The_resolver_fails_closed_without_credentials_and_when_identity_or_system_graph_cannot_be_reached()
    {
        var window = CompiledWindow.Compile(Window("billing freeze", ChangeWindowKinds.Deny, "* * * * *", "1h", nodes: ["billing"], extends: true));
        var plain = CompiledWindow.Compile(Window("gateway freeze", ChangeWindowKinds.Deny, "* * * * *", "1h", nodes: ["gateway"]));
        using var closed = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        closed.Start();
        var nobody = $"http://127.0.0.1:{((System.Net.IPEndPoint)closed.LocalEndpoint).Port}/";
        closed.Stop(); // a port nothing listens on

        var unconfigured = await Resolver(new ServiceClientOptions(), ("services:system-graph:http:0", nobody)).ResolveAsync([window, plain], CancellationToken.None);
        Assert.Equal("orchestrator has no service credentials (Mcp:ServiceClient:ClientId and :ClientSecret, and services:identity:http:0)",
            unconfigured[0].DependentsUnresolved);
        Assert.Null(unconfigured[0].Dependents);
        Assert.Same(plain, unconfigured[1]); // windows that do not extend to dependents ask nothing

        var unreachable = await Resolver(new ServiceClientOptions { ClientId = "orchestrator-mcp", ClientSecret = "secret" },
            ("services:identity:http:0", nobody), ("services:system-graph:http:0", nobody)).ResolveAsync([window], CancellationToken.None);
        Assert.Equal("identity unreachable or refused orchestrator's token for system-graph", unreachable[0].DependentsUnresolved);
        Assert.Contains("cannot resolve the dependents of billing: identity unreachable", unreachable[0].Holds(new ChangeScope("production", ["search"])),
            StringComparison.Ordinal);
    }

    private static WindowDependents Resolver(ServiceClientOptions client, params (string Key, string Value)[] settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value))).Build();
        var http = new ServiceCollection().AddHttpClient().BuildServiceProvider().GetRequiredService<IHttpClientFactory>();
        return new WindowDependents(new ServiceTokens(http, configuration, client, WindowDependents.HttpClientName), http, configuration,
            Options.Create(new OrchestratorOptions()), TimeProvider.System, NullLogger<WindowDependents>.Instance);
    }

    [Fact]
    public void Validation_names_each_bad_field()
    {
        var bad = new ChangeWindowRequest("", "maybe", "0 18 * *", "0h", "Mars/Olympus", new ChangeWindowScopeRequest(["moon"], [], null), null, null);

        var errors = bad.Validate(["dev", "staging", "production"]);

        Assert.Equal(["duration", "kind", "name", "schedule", "scope.environments", "scope.nodes", "timeZone"], errors.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(["scope"], new ChangeWindowRequest("x", "deny", "0 18 * * 5", "64h", null, null, null, null).Validate(["production"]).Keys);
        Assert.Contains("duration", new ChangeWindowRequest("x", "deny", "0 18 * * 5", "-1h", null, new([ "*" ], null, null), null, null).Validate(["production"]).Keys);
        Assert.Contains("schedule", new ChangeWindowRequest("x", "deny", "@daily", "1h", null, new(["*"], null, null), null, null).Validate(["production"]).Keys);
        Assert.Contains("timeZone", new ChangeWindowRequest("x", "deny", "0 1 * * *", "1h", "W. Europe Standard Time", new(["*"], null, null), null, null).Validate(["production"]).Keys);

        var good = new ChangeWindowRequest("quarter-end freeze", "deny", "0 18 * * 5", "64h", "Europe/Berlin", new(["production"], null, null), true, "Q4");
        Assert.Empty(good.Validate(["dev", "staging", "production"]));
        var window = good.ToWindow(Guid.NewGuid(), "olga@example.com", At("2026-12-01T00:00:00Z"));
        Assert.Equal(["production"], window.Scope.Environments);
        Assert.Equal(["*"], window.Scope.Nodes);
        Assert.Equal(["*"], window.Scope.Teams);
        Assert.Equal(("UTC", true), (new ChangeWindowRequest("x", "allow", "0 1 * * *", "1h", null, new(["*"], null, null), null, null)
            .ToWindow(Guid.NewGuid(), "olga@example.com", At("2026-12-01T00:00:00Z")).TimeZone, window.ExtendsToDependents));
    }

    [Theory]
    [InlineData("64h", 64 * 60)]
    [InlineData("1h30m", 90)]
    [InlineData("2d", 2 * 24 * 60)]
    [InlineData("90m", 90)]
    public void Durations_read_as_days_hours_minutes_seconds(string text, int minutes)
    {
        Assert.True(CompiledWindow.TryParseDuration(text, out var duration));
        Assert.Equal(TimeSpan.FromMinutes(minutes), duration);
    }

    [Theory]
    [InlineData("0s")]
    [InlineData("1h1d")]
    [InlineData("367d")]
    [InlineData("1.5h")]
    [InlineData("h")]
    public void Durations_that_are_not_positive_or_not_in_order_are_refused(string text) =>
        Assert.False(CompiledWindow.TryParseDuration(text, out _));
}

using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Orchestrator.Scheduling;
using ControlPlane.Orchestrator.Tests.Infrastructure;
using ControlPlane.Testing;

namespace ControlPlane.Orchestrator.Tests.Integration;

/// <summary>
/// An orchestrator plane beside a real system-graph seeded with the demo graph (checkout, reporting and billing-admin
/// depend on billing; billing depends on ledger-db); orchestrator reads the dependents of frozen nodes with its own
/// workload identity (played by the watcher agent, which holds viewer and so graph:read).
/// </summary>
public sealed class WindowPlane(IdentityFixture identity) : IAsyncLifetime
{
    private TestVirtualHost _graphVhost = null!;
    private TestDatabase _graphDb = null!;
    private ServiceHost<ControlPlane.SystemGraph.SystemGraphService> _graph = null!;

    public OrchestratorPlane Plane { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        _graphVhost = await TestVirtualHost.CreateAsync("orch-windows-graph");
        _graphDb = await TestDatabase.CreateAsync("graph");
        _graph = new ServiceHost<ControlPlane.SystemGraph.SystemGraphService>(new PlaneSettings(_graphVhost, PlaneSettings.NewRedisPrefix())
            .Database("graph-db", _graphDb.ConnectionString)
            .Service("identity", identity.Address)
            .Set("SystemGraph:SeedFile", "Seed/demo-graph.json")
            .Build());
        using (var http = _graph.CreateHttpClient())
        {
            await Eventually.UntilAsync(async () => (await http.GetAsync("health")).IsSuccessStatusCode, TimeSpan.FromSeconds(60), "system-graph healthy");
        }

        Plane = await OrchestratorPlane.StartAsync(identity, "orch-windows", settings => settings
            .Set("Orchestrator:Scheduling:Interval", "00:00:00.200")
            .Service("system-graph", _graph.BaseAddress)
            .Set("Mcp:ServiceClient:ClientId", IdentityFixture.WatcherAgent)
            .Set("Mcp:ServiceClient:ClientSecret", TestIdentity.AgentSecret));
    }

    public async ValueTask DisposeAsync()
    {
        if (Plane is not null)
        {
            await Plane.DisposeAsync();
        }

        await _graph.DisposeAsync();
        await _graphDb.DisposeAsync();
        await _graphVhost.DisposeAsync();
    }
}

/// <summary>
/// Change windows through the API, the scheduler and the bus against the real servers: a deny window holds authorized
/// production work with its reason and the work starts once the window closes by the clock; a freeze of a node that
/// extends to dependents holds a change to a node that depends on it (read from a real system-graph); every window change is an event; bad windows are RFC 9457.
/// </summary>
public sealed class ChangeWindowTests(WindowPlane fixture) : IClassFixture<WindowPlane>
{
    private readonly OrchestratorPlane _plane = fixture.Plane;

    private static string Key() => "window-" + Guid.NewGuid().ToString("N")[..12];

    [Fact]
    public async Task A_deny_window_holds_authorized_production_work_with_its_reason_and_it_starts_once_the_window_closes()
    {
        // A daily window that opened at the start of this minute, for an hour.
        var minute = DateTimeOffset.UtcNow;
        minute = new DateTimeOffset(minute.Year, minute.Month, minute.Day, minute.Hour, minute.Minute, 0, TimeSpan.Zero);
        var schedule = string.Create(CultureInfo.InvariantCulture, $"{minute.Minute} {minute.Hour} * * *");
        var window = await _plane.CreateWindowAsync(new ChangeWindowRequest("gateway freeze", ChangeWindowKinds.Deny, schedule, "1h", "UTC",
            new ChangeWindowScopeRequest(["production"], ["gateway"], null), false, "release train"));
        await _plane.Bus.WaitForAsync<ChangeWindowChanged>(c => c.Window.Id == window.Id && c.Change == "created" && c.ChangedBy == IdentityFixture.Olga,
            "ChangeWindowChanged created");

        var id = await _plane.SubmitAssessedAsync(OrchestratorPlane.Proposal(Key(), "production", targets: ["gateway"]), OrchestratorPlane.Allow());
        var held = await Eventually.UntilAsync(() => _plane.GetAsync(id), p => p.WaitingReason is not null, TimeSpan.FromSeconds(15), "held by the window");
        Assert.Equal($"deny window 'gateway freeze' ({schedule}, 1h, UTC) holds gateway in production until {ChangeWindows.Format(minute.AddHours(1))}; " +
            $"it may start at {ChangeWindows.Format(minute.AddHours(1))}", held.WaitingReason);
        Assert.Equal(ProposalState.Scheduled, held.State);
        Assert.Empty(_plane.WorkFor(id));

        // Shorten the window so it closes by the clock three seconds from now; nothing else wakes the scheduler then.
        var seconds = (int)Math.Ceiling((DateTimeOffset.UtcNow.AddSeconds(3) - minute).TotalSeconds);
        var closesAt = minute.AddSeconds(seconds);
        using (var olga = await _plane.HumanAsync(IdentityFixture.Olga))
        using (var put = await olga.PutAsJsonAsync($"schedule/windows/{window.Id}", new ChangeWindowRequest("gateway freeze", ChangeWindowKinds.Deny, schedule,
            $"{seconds}s", "UTC", new ChangeWindowScopeRequest(["production"], ["gateway"], null), false, "release train"), ContractJson.Options))
        {
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        }

        await _plane.Bus.WaitForAsync<ChangeWindowChanged>(c => c.Window.Id == window.Id && c.Change == "updated" && c.Window.Duration == $"{seconds}s",
            "ChangeWindowChanged updated");
        var done = await _plane.WaitForStateAsync(id, ProposalState.Completed);
        var started = done.History.First(h => h.To == ProposalState.Executing);
        Assert.True(started.At >= closesAt, $"started at {started.At:O}, before the window closed at {closesAt:O}");

        using (var olga = await _plane.HumanAsync(IdentityFixture.Olga))
        using (var delete = await olga.DeleteAsync($"schedule/windows/{window.Id}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        }

        await _plane.Bus.WaitForAsync<ChangeWindowChanged>(c => c.Window.Id == window.Id && c.Change == "deleted", "ChangeWindowChanged deleted");
    }

    [Fact]
    public async Task A_freeze_of_a_node_that_extends_to_dependents_holds_a_change_to_a_node_that_depends_on_it()
    {
        var window = await _plane.CreateWindowAsync(new ChangeWindowRequest("billing close", ChangeWindowKinds.Deny, "* * * * *", "1h", "Europe/Berlin",
            new ChangeWindowScopeRequest(["staging"], ["billing"], null), true, null));

        // checkout depends on billing in the seeded graph; search does not, and ledger-db is what billing depends on.
        var held = await _plane.SubmitAssessedAsync(OrchestratorPlane.Proposal(Key(), "staging", targets: ["checkout"]), OrchestratorPlane.Allow());
        var unrelated = await _plane.SubmitAssessedAsync(OrchestratorPlane.Proposal(Key(), "staging", targets: ["search"]), OrchestratorPlane.Allow());
        var below = await _plane.SubmitAssessedAsync(OrchestratorPlane.Proposal(Key(), "staging", targets: ["ledger-db"]), OrchestratorPlane.Allow());

        await _plane.WaitForStateAsync(unrelated, ProposalState.Completed);
        await _plane.WaitForStateAsync(below, ProposalState.Completed);
        var waiting = await Eventually.UntilAsync(() => _plane.GetAsync(held), p => p.WaitingReason is not null, TimeSpan.FromSeconds(15), "held by the billing freeze");
        Assert.StartsWith("deny window 'billing close' (* * * * *, 1h, Europe/Berlin) holds checkout in staging (it depends on billing)", waiting.WaitingReason,
            StringComparison.Ordinal);
        Assert.Equal(ProposalState.Scheduled, waiting.State);
        Assert.Empty(_plane.WorkFor(held));

        using var olga = await _plane.HumanAsync(IdentityFixture.Olga);
        using (var delete = await olga.DeleteAsync($"schedule/windows/{window.Id}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        }

        await _plane.WaitForStateAsync(held, ProposalState.Completed);
    }

    [Fact]
    public async Task Windows_are_listed_to_viewers_and_bad_ones_are_refused_as_problem_details_naming_each_field()
    {
        using var olga = await _plane.HumanAsync(IdentityFixture.Olga);
        using var response = await olga.PostAsJsonAsync("schedule/windows", new
        {
            name = "bad",
            kind = "sometimes",
            schedule = "0 18 * *",
            duration = "0h",
            timeZone = "Mars/Olympus",
            scope = new { environments = Array.Empty<string>() },
        });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(400, problem.RootElement.GetProperty("status").GetInt32());
        var fields = problem.RootElement.GetProperty("errors").EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal);
        Assert.Equal(["duration", "kind", "schedule", "scope.environments", "timeZone"], fields);

        var window = await _plane.CreateWindowAsync(new ChangeWindowRequest("weeknights", ChangeWindowKinds.Allow, "0 22 * * 1-5", "6h", "America/New_York",
            new ChangeWindowScopeRequest(["dev"], null, ["nobody-owns-this"]), false, null));
        using var vera = await _plane.HumanAsync(IdentityFixture.Vera);
        var listed = await vera.GetFromJsonAsync<JsonElement>("schedule/windows");
        var shown = listed.EnumerateArray().Single(w => w.GetProperty("id").GetGuid() == window.Id);
        Assert.Equal(("allow", "America/New_York", "*"), (shown.GetProperty("kind").GetString(), shown.GetProperty("timeZone").GetString(),
            shown.GetProperty("scope").GetProperty("nodes")[0].GetString()));
        Assert.True(shown.TryGetProperty("nextStart", out _));

        using var refused = await vera.PostAsJsonAsync("schedule/windows", new { name = "viewer window", kind = "deny", schedule = "* * * * *", duration = "1h",
            scope = new { environments = new[] { "dev" } } });
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        using var gone = await olga.DeleteAsync($"schedule/windows/{window.Id}");
        Assert.Equal(HttpStatusCode.NoContent, gone.StatusCode);
    }
}

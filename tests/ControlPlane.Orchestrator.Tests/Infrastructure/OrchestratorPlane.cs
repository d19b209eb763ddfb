using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Orchestrator.Proposals;
using ControlPlane.Orchestrator.Scheduling;
using ControlPlane.Testing;

namespace ControlPlane.Orchestrator.Tests.Infrastructure;

/// <summary>
/// One orchestrator under test on its own database, vhost and Redis prefix, against the shared real identity,
/// with a <see cref="TestBus"/> that plays the other services. The host can be stopped and started again on the
/// same database and vhost (restart tests).
/// </summary>
public sealed class OrchestratorPlane : IAsyncDisposable
{
    private readonly IdentityFixture _identity;
    private readonly PlaneSettings _settings;

    private OrchestratorPlane(IdentityFixture identity, TestVirtualHost vhost, TestDatabase database, TestBus bus, PlaneSettings settings, string redisPrefix)
    {
        _identity = identity;
        VirtualHost = vhost;
        Database = database;
        Bus = bus;
        _settings = settings;
        RedisPrefix = redisPrefix;
        Fleet = new FleetSimulator(bus);
    }

    /// <summary>The simulated fleet answering this plane's WorkRequested (default: succeed at once).</summary>
    public FleetSimulator Fleet { get; }

    public TestVirtualHost VirtualHost { get; }

    public TestDatabase Database { get; }

    public TestBus Bus { get; }

    public string RedisPrefix { get; }

    public ServiceHost<OrchestratorService>? Host { get; private set; }

    public IdentityFixture Identity => _identity;

    /// <summary>Extra services for every host this plane starts (a log capture, …).</summary>
    public Action<Microsoft.Extensions.DependencyInjection.IServiceCollection>? Services { get; init; }

    public static async Task<OrchestratorPlane> StartAsync(IdentityFixture identity, string purpose, Action<PlaneSettings>? configure = null,
        Action<Microsoft.Extensions.DependencyInjection.IServiceCollection>? services = null)
    {
        var vhost = await TestVirtualHost.CreateAsync(purpose);
        var database = await TestDatabase.CreateAsync("orchestrator");
        var bus = await TestBus.StartAsync(vhost);
        var prefix = PlaneSettings.NewRedisPrefix();
        var settings = new PlaneSettings(vhost, prefix)
            .Database("orchestrator-db", database.ConnectionString)
            .Service("identity", identity.Address)
            .Set("Orchestrator:Timers:PollInterval", "00:00:00.100");
        configure?.Invoke(settings);
        var plane = new OrchestratorPlane(identity, vhost, database, bus, settings, prefix) { Services = services };
        await plane.StartHostAsync();
        return plane;
    }

    /// <summary>Starts a fresh orchestrator host on the same database, vhost and Redis prefix, and waits until its bus is up.</summary>
    public async Task StartHostAsync()
    {
        Host = new ServiceHost<OrchestratorService>(_settings.Build(), configureServices: Services);
        using var http = Host.CreateHttpClient();
        await Eventually.UntilAsync(async () =>
        {
            using var response = await http.GetAsync("health");
            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            return body.RootElement.GetProperty("checks").TryGetProperty("masstransit-bus", out var bus) &&
                bus.GetProperty("status").GetString() == "Healthy" &&
                body.RootElement.GetProperty("checks").GetProperty("database").GetProperty("status").GetString() == "Healthy";
        }, TimeSpan.FromSeconds(60), "orchestrator bus and database ready");
    }

    /// <summary>Stops the orchestrator host (as a crash or a deploy would); state stays in PostgreSQL and the queues.</summary>
    public async Task StopHostAsync()
    {
        if (Host is not null)
        {
            await Host.DisposeAsync();
            Host = null;
        }
    }

    public async Task<HttpClient> AgentAsync(string agent) => Host!.CreateHttpClient(await _identity.AgentTokenAsync(agent));

    public async Task<HttpClient> HumanAsync(string human) => Host!.CreateHttpClient(await _identity.HumanTokenAsync(human));

    /// <summary>The work orchestrator requested for one proposal, in the order it arrived.</summary>
    public IReadOnlyList<WorkRequested> WorkFor(Guid id) => Bus.Seen<WorkRequested>().Where(w => w.ProposalId == id).ToList();

    public static SubmitProposal Proposal(string key, string environment = "dev", string kind = "restart", string[]? targets = null,
        string? rollbackPlan = "roll back to the previous image", string summary = "Restart to clear a memory leak") => new(
        key,
        new ProposedAction(kind, summary, new Dictionary<string, string> { ["reason"] = "memory leak" }),
        targets ?? ["billing"],
        environment,
        new ChangeReference("sha256:0123456789abcdef", "git@example.com:billing.git#a1b2c3", rollbackPlan));

    /// <summary>POSTs as the agent and returns the proposal id (asserting 202).</summary>
    public async Task<Guid> SubmitAsync(string agent, SubmitProposal proposal)
    {
        using var http = await AgentAsync(agent);
        using var response = await http.PostAsJsonAsync("proposals", proposal, ContractJson.Options);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"submit answered {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.GetProperty("id").GetGuid();
    }

    /// <summary>Creates a change window as Olga (operator) and returns it (asserting 201).</summary>
    public async Task<ChangeWindow> CreateWindowAsync(ChangeWindowRequest window)
    {
        using var http = await HumanAsync(IdentityFixture.Olga);
        using var response = await http.PostAsJsonAsync("schedule/windows", window, ContractJson.Options);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"create window answered {(int)response.StatusCode}: {text}");
        return JsonSerializer.Deserialize<ChangeWindow>(text, ContractJson.Options)!;
    }

    /// <summary>Reads a proposal as the viewer.</summary>
    public async Task<ProposalView> GetAsync(Guid id)
    {
        using var http = await HumanAsync(IdentityFixture.Vera);
        return (await http.GetFromJsonAsync<ProposalView>($"proposals/{id}", ContractJson.Options))!;
    }

    public Task<ProposalView> WaitForStateAsync(Guid id, ProposalState state, TimeSpan? timeout = null) =>
        Eventually.UntilAsync(() => GetAsync(id), p => p.State == state, timeout ?? TimeSpan.FromSeconds(30), $"proposal {id} to be {state}");

    public static ImpactReport Impact(IReadOnlyList<string> targets, long graphVersion = 7, bool revenuePath = false, string[]? teams = null,
        string[]? dataClasses = null) => new(
        graphVersion, targets, [], revenuePath ? 0 : 3, dataClasses ?? [], revenuePath, false, teams ?? ["payments"], [],
        revenuePath ? ["billing is on the revenue path"] : [], DateTimeOffset.UtcNow);

    /// <summary>
    /// Plays system-graph: waits for ProposalSubmitted of <paramref name="id"/>, publishes ImpactAssessed and waits
    /// until orchestrator took it (events of two services travel on different queues; policy answers after this).
    /// </summary>
    public async Task<ProposalSubmitted> AssessAsync(Guid id, ImpactReport? impact = null)
    {
        var submitted = await Bus.WaitForAsync<ProposalSubmitted>(s => s.ProposalId == id, $"ProposalSubmitted {id}");
        await Bus.PublishAsync(new ImpactAssessed(id, submitted, impact ?? Impact(submitted.Targets)));
        await WaitForStateAsync(id, ProposalState.Assessing);
        return submitted;
    }

    /// <summary>Plays policy: publishes PolicyDecided for the proposal's content hash.</summary>
    public async Task DecideAsync(Guid id, PolicyDecision decision, long graphVersion = 7)
    {
        var submitted = await Bus.WaitForAsync<ProposalSubmitted>(s => s.ProposalId == id, $"ProposalSubmitted {id}");
        await Bus.PublishAsync(new PolicyDecided(id, submitted.ContentHash, graphVersion, decision));
    }

    public static PolicyDecision Allow(IReadOnlyList<StepRequirement>? validations = null, IReadOnlyList<StepRequirement>? verifications = null) => new(
        DecisionOutcome.Allow, ["low risk in this environment"], ["dev-autonomous"], "sha256:bundle", "v1", null,
        validations ?? [], verifications ?? [], DateTimeOffset.UtcNow);

    public static PolicyDecision RequireApproval(int count = 1, TimeSpan? expiresAfter = null, string[]? roles = null) => new(
        DecisionOutcome.RequireApproval, ["billing is on the revenue path", "billing holds regulated data"], ["prod-revenue-path", "prod-regulated"],
        "sha256:bundle", "v1", new ApprovalRequirement(count, roles ?? ["approver"], expiresAfter ?? TimeSpan.FromHours(1)), [], [], DateTimeOffset.UtcNow);

    public static PolicyDecision Deny() => new(
        DecisionOutcome.Deny, ["destructive action on regulated data without a rollback plan"], ["deny-destructive-regulated"],
        "sha256:bundle", "v1", null, [], [], DateTimeOffset.UtcNow);

    /// <summary>Submits as the remediation agent, then plays system-graph and policy.</summary>
    public async Task<Guid> SubmitAssessedAsync(SubmitProposal proposal, PolicyDecision decision, ImpactReport? impact = null,
        string agent = IdentityFixture.RemediationAgent)
    {
        var id = await SubmitAsync(agent, proposal);
        await AssessAsync(id, impact);
        await DecideAsync(id, decision);
        return id;
    }

    public async ValueTask DisposeAsync()
    {
        await StopHostAsync();
        await Bus.DisposeAsync();
        await Database.DisposeAsync();
        await VirtualHost.DisposeAsync();
    }
}

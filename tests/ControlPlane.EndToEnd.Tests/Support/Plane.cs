using System.Net.Http.Json;
using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Identity.Seeding;
using ControlPlane.Orchestrator.Proposals;
using ControlPlane.Testing;
using Microsoft.AspNetCore.Mvc.Testing;

namespace ControlPlane.EndToEnd.Tests.Support;

/// <summary>
/// The whole plane, started once for the end-to-end collection: every service on its own real port with its
/// own database, one vhost, one Redis prefix, the demo identities, graph and default policy, and one runner per
/// fleet running the demo commands. Configured with the keys ./run.sh and the AppHost use.
/// </summary>
public class Plane : IAsyncLifetime
{
    private readonly List<TestDatabase> _databases = [];
    private readonly List<IAsyncDisposable> _hosts = [];
    private readonly Dictionary<string, Uri> _addresses = new(StringComparer.Ordinal);
    private readonly Dictionary<(string, string), string> _tokens = [];
    private readonly Dictionary<string, IServiceProvider> _providers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _databaseConnections = new(StringComparer.Ordinal);
    private string _redisPrefix = null!;

    /// <summary>The secret of system-graph's GitHub deployment webhook (Deployments:GitHub:Secret).</summary>
    public const string GitHubWebhookSecret = "e2e-github-webhook-secret";
    private string _runnerStates = null!;

    public TestVirtualHost Vhost { get; private set; } = null!;
    public TestIdentity Identity { get; private set; } = null!;
    public ServiceHost<ControlPlane.Orchestrator.OrchestratorService> Orchestrator { get; private set; } = null!;
    public IReadOnlyDictionary<string, string?> OrchestratorSettings { get; private set; } = null!;
    public string RunnerStates => _runnerStates;

    public Uri Address(string service) => _addresses[service];

    /// <summary>Each service's database connection string (identity, system-graph, …), to look at what a request wrote.</summary>
    public IReadOnlyDictionary<string, string> Databases => _databaseConnections;

    /// <summary>Each running service's container (for the endpoint audit): identity, system-graph, …, runner-testing-1.</summary>
    public IReadOnlyDictionary<string, IServiceProvider> Services => _providers;

    public virtual async ValueTask InitializeAsync()
    {
        Vhost = await TestVirtualHost.CreateAsync("e2e");
        _redisPrefix = PlaneSettings.NewRedisPrefix();
        var demo = JsonSerializer.Deserialize<IdentitySeed>(await File.ReadAllTextAsync(RepositoryPaths.IdentitySeed), ContractJson.Options)!;
        // The demo principals, plus one human per role (global binding) and one with none, for the access matrix.
        var seed = demo with { Humans = [.. demo.Humans ?? [], .. RoleHumans.All.Select(h => new SeedHuman(h.Id, h.Id, h.Id, h.Role is null ? [] : [h.Role]))] };
        Identity = await TestIdentity.StartAsync(Vhost, seed, ConfigureIdentity);
        _providers["identity"] = Identity.Host.Services;
        _databaseConnections["identity"] = Identity.DatabaseConnectionString;
        _addresses["identity"] = Identity.Address;

        await StartAsync<ControlPlane.SystemGraph.SystemGraphService>("system-graph", "graph-db", s => s.Set("SystemGraph:SeedFile", RepositoryPaths.GraphSeed)
            .Set("Deployments:GitHub:Secret", GitHubWebhookSecret));
        await StartAsync<ControlPlane.Policy.PolicyService>("policy", "policy-db");
        await StartAsync<ControlPlane.Evidence.EvidenceService>("evidence", "evidence-db");
        await StartAsync<ControlPlane.Fleet.FleetService>("fleet", "fleet-db");
        var orchestratorDb = await TestDatabase.CreateAsync("orchestrator");
        _databases.Add(orchestratorDb);
        _databaseConnections["orchestrator"] = orchestratorDb.ConnectionString;
        OrchestratorSettings = Settings().Database("orchestrator-db", orchestratorDb.ConnectionString).Build();
        await StartOrchestratorAsync();

        _runnerStates = Path.Combine(Path.GetTempPath(), $"cpt-runners-{Guid.NewGuid():N}");
        foreach (var fleet in new[] { "testing", "remediation" })
        {
            var id = $"runner-{fleet}-1";
            var runner = new ServiceHost<ControlPlane.Runner.RunnerService>(Settings()
                .Service("fleet", _addresses["fleet"])
                .Set("Runner:Id", id)
                .Set("Runner:Fleet", fleet)
                .Set("Runner:ClientId", id)
                .Set("Runner:ClientSecret", $"demo-secret-{id}-development-only")
                .Set("Runner:StateDirectory", Path.Combine(_runnerStates, id))
                .Set("Runner:ConfigFile", RepositoryPaths.RunnerConfig(fleet))
                .Set("Runner:HeartbeatInterval", "00:00:02")
                .Build());
            _hosts.Add(runner);
            await runner.WaitUntilReadyAsync(); // healthy once fleet accepted its registration
            _providers[id] = runner.Services;
        }
    }

    /// <summary>Extra identity settings (the console's tests register its redirect URIs).</summary>
    protected virtual void ConfigureIdentity(PlaneSettings settings)
    {
    }

    /// <summary>Stops orchestrator (as a crash would, mid-flow) and starts a new one on the same database and vhost.</summary>
    public async Task RestartOrchestratorAsync()
    {
        _hosts.Remove(Orchestrator);
        await Orchestrator.DisposeAsync();
        await StartOrchestratorAsync();
    }

    private async Task StartOrchestratorAsync()
    {
        Orchestrator = new ServiceHost<ControlPlane.Orchestrator.OrchestratorService>(OrchestratorSettings);
        _hosts.Add(Orchestrator);
        await Orchestrator.WaitUntilReadyAsync();
        _addresses["orchestrator"] = Orchestrator.BaseAddress;
        _providers["orchestrator"] = Orchestrator.Services;
    }

    private PlaneSettings Settings() => new PlaneSettings(Vhost, _redisPrefix).Service("identity", Identity.Address);

    private async Task StartAsync<TEntryPoint>(string service, string database, Action<PlaneSettings>? configure = null) where TEntryPoint : class
    {
        var db = await TestDatabase.CreateAsync(database.Replace("-db", "", StringComparison.Ordinal));
        _databases.Add(db);
        _databaseConnections[service] = db.ConnectionString;
        var settings = Settings().Database(database, db.ConnectionString);
        configure?.Invoke(settings);
        var host = new ServiceHost<TEntryPoint>(settings.Build());
        _hosts.Add(host);
        await host.WaitUntilReadyAsync();
        _addresses[service] = host.BaseAddress;
        _providers[service] = host.Services;
    }

    /// <summary>A client for <paramref name="service"/> acting as a demo human (dev login) or agent (client credentials).</summary>
    public async Task<HttpClient> ClientAsync(string principal, string service)
    {
        if (!_tokens.TryGetValue((principal, service), out var token))
        {
            token = principal switch
            {
                Principals.RemediationAgent => await Identity.AgentTokenAsync(principal, service, Principals.RemediationAgentSecret),
                Principals.TestingAgent => await Identity.AgentTokenAsync(principal, service, Principals.TestingAgentSecret),
                _ => await Identity.HumanTokenAsync(principal, service),
            };
            _tokens[(principal, service)] = token;
        }

        var client = new HttpClient { BaseAddress = Address(service), Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new("Bearer", token);
        return client;
    }

    /// <summary>Submits a proposal as an agent; returns its id.</summary>
    public async Task<Guid> ProposeAsync(string agent, object body)
    {
        using var client = await ClientAsync(agent, "orchestrator");
        using var response = await client.PostAsJsonAsync("proposals", body, ContractJson.Options);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.Accepted, $"POST /proposals answered {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.GetProperty("id").GetGuid();
    }

    public async Task<ProposalView> GetProposalAsync(Guid id, string reader = Principals.Viewer)
    {
        using var client = await ClientAsync(reader, "orchestrator");
        return (await client.GetFromJsonAsync<ProposalView>($"proposals/{id}", ContractJson.Options))!;
    }

    /// <summary>Waits until the proposal reaches <paramref name="state"/>; fails early, with its history, if it ends elsewhere.</summary>
    public async Task<ProposalView> WaitForStateAsync(Guid id, ProposalState state, TimeSpan? timeout = null)
    {
        var view = await Eventually.UntilAsync(() => GetProposalAsync(id), p => p.State == state || IsTerminal(p.State), timeout ?? TimeSpan.FromSeconds(60), $"proposal {id} to reach {state}");
        Assert.True(view.State == state, $"proposal {id} ended {view.State}, not {state}: " +
            string.Join(" | ", view.History.Select(h => $"{h.From}->{h.To} ({h.Reason})")));
        return view;
    }

    public static bool IsTerminal(ProposalState state) => state is ProposalState.Completed or ProposalState.Denied or ProposalState.Rejected
        or ProposalState.Expired or ProposalState.Failed or ProposalState.Cancelled;

    public virtual async ValueTask DisposeAsync()
    {
        foreach (var host in Enumerable.Reverse(_hosts))
        {
            await host.DisposeAsync();
        }

        await Identity.DisposeAsync();
        foreach (var db in _databases)
        {
            await db.DisposeAsync();
        }

        await Vhost.DisposeAsync();
        if (Directory.Exists(_runnerStates))
        {
            Directory.Delete(_runnerStates, recursive: true);
        }
    }
}

[CollectionDefinition(Name)]
public sealed class PlaneCollection : ICollectionFixture<Plane>
{
    public const string Name = "plane";
}

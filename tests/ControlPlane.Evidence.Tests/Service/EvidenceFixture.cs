using System.Net;
using System.Net.Http.Json;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Evidence;
using ControlPlane.Identity.Seeding;
using ControlPlane.Testing;

namespace ControlPlane.Evidence.Tests.Service;

/// <summary>
/// The real evidence service (own database and vhost) with the real identity service, and a publisher on the
/// same vhost. Ready once evidence answers /health and its own key's announcement is a record.
/// </summary>
public class EvidenceFixture : IAsyncLifetime
{
    public const string Auditor = "audrey@example.com";
    public const string Viewer = "vera@example.com";
    public const string ProductionApprover = "alice@example.com";
    public const string StagingApprover = "stan@example.com";
    public const string Nobody = "nobody@example.com";

    private static readonly IdentitySeed Seed = new(
    [
        new SeedHuman(Auditor, "Audrey Auditor", null, ["auditor"]),
        new SeedHuman(Viewer, "Vera Viewer", null, ["viewer"]),
        new SeedHuman(ProductionApprover, "Alice Approver", null, ["approver@environment:production"]),
        new SeedHuman(StagingApprover, "Stan Staging", null, ["approver@environment:staging"]),
        new SeedHuman(Nobody, "No Roles", null, []),
    ], []);

    private readonly List<ServiceHost<EvidenceService>> _replicas = [];
    private readonly Dictionary<string, string> _tokens = new(StringComparer.Ordinal);

    public TestVirtualHost VirtualHost { get; private set; } = null!;

    public TestIdentity Identity { get; private set; } = null!;

    public TestDatabase Database { get; private set; } = null!;

    public ServiceHost<EvidenceService> Evidence => _replicas[0];

    public IReadOnlyList<ServiceHost<EvidenceService>> Replicas => _replicas;

    internal TestBus Publisher { get; private set; } = null!;

    /// <summary>Evidence:ConsumerConcurrency of every replica (the default keeps delivery order).</summary>
    protected virtual int ConsumerConcurrency => 1;

    protected virtual int ReplicaCount => 1;

    /// <summary>Extra settings for every replica (a subclass's fixture).</summary>
    protected virtual void Configure(PlaneSettings settings)
    {
    }

    public virtual async ValueTask InitializeAsync()
    {
        VirtualHost = await TestVirtualHost.CreateAsync("evidence");
        Identity = await TestIdentity.StartAsync(VirtualHost, Seed);
        Database = await TestDatabase.CreateAsync("evidence");
        for (var i = 0; i < ReplicaCount; i++)
        {
            var settings = ReplicaSettings()
                .Set("Evidence:ConsumerConcurrency", ConsumerConcurrency.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Configure(settings);
            var replica = new ServiceHost<EvidenceService>(settings.Build());
            _replicas.Add(replica);
            using var probe = replica.CreateHttpClient();
            await Eventually.UntilAsync(async () =>
            {
                using var health = await probe.GetAsync("health");
                return $"{(int)health.StatusCode} {await health.Content.ReadAsStringAsync()}";
            }, health => health.StartsWith("200 ", StringComparison.Ordinal), TimeSpan.FromSeconds(60), $"evidence replica {i} to be healthy (database, broker)");
        }

        await Eventually.UntilAsync(async () => (await VirtualHost.QueueNamesAsync()).Contains("evidence"), TimeSpan.FromSeconds(30), "the evidence queue");
        Publisher = await TestBus.StartAsync(VirtualHost);
        using var auditor = await ClientAsync(Auditor);
        await Eventually.UntilAsync(async () =>
        {
            var page = await auditor.GetFromJsonAsync<EvidencePage>($"evidence/records?kind={nameof(SigningKeyPublished)}", EvidenceFormat.Json);
            return page!.Records.Any(r => r.Actor == "evidence");
        }, TimeSpan.FromSeconds(30), "evidence's own key to be recorded");
    }

    /// <summary>What an evidence replica needs to join this one: the vhost, the database, identity; its own Redis prefix.</summary>
    public PlaneSettings ReplicaSettings() => new PlaneSettings(VirtualHost, PlaneSettings.NewRedisPrefix())
        .Database("evidence-db", Database.ConnectionString)
        .Service("identity", Identity.Address);

    /// <summary>A client for evidence carrying a real token of <paramref name="principal"/> (audience "evidence").</summary>
    public async Task<HttpClient> ClientAsync(string? principal, ServiceHost<EvidenceService>? replica = null)
    {
        if (principal is null)
        {
            return (replica ?? Evidence).CreateHttpClient();
        }

        if (!_tokens.TryGetValue(principal, out var token))
        {
            token = await Identity.HumanTokenAsync(principal, "evidence");
            _tokens[principal] = token;
        }

        return (replica ?? Evidence).CreateHttpClient(token);
    }

    public async Task<string> TokenAsync(string principal)
    {
        using var _ = await ClientAsync(principal);
        return _tokens[principal];
    }

    /// <summary>Waits until the proposal has <paramref name="count"/> records and returns them.</summary>
    public async Task<IReadOnlyList<EvidenceRecord>> WaitForRecordsAsync(Guid proposalId, int count, TimeSpan? timeout = null)
    {
        using var auditor = await ClientAsync(Auditor);
        var evidence = await Eventually.UntilAsync(async () =>
        {
            using var response = await auditor.GetAsync($"evidence/proposals/{proposalId}");
            return response.StatusCode == HttpStatusCode.OK
                ? (await response.Content.ReadFromJsonAsync<ProposalEvidence>(EvidenceFormat.Json))!.Records
                : [];
        }, records => records.Count >= count, timeout ?? TimeSpan.FromSeconds(30), $"{count} records of proposal {proposalId}");
        return evidence;
    }

    public virtual async ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        if (Publisher is not null)
        {
            await Publisher.DisposeAsync();
        }

        foreach (var replica in _replicas)
        {
            await replica.DisposeAsync();
        }

        await Database.DisposeAsync();
        await Identity.DisposeAsync();
        await VirtualHost.DisposeAsync();
    }
}

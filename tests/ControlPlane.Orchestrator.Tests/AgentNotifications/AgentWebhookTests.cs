using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Orchestrator.AgentNotifications;
using ControlPlane.Orchestrator.Tests.Infrastructure;
using ControlPlane.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ControlPlane.Orchestrator.Tests.AgentNotifications;

public sealed class WebhookPlane(IdentityFixture identity) : PlaneFixture(identity, "orch-webhooks")
{
    public const string PublicBaseUrl = "https://orchestrator.example.com";

    public LogCapture Logs { get; } = new();

    protected override void Configure(PlaneSettings settings) => settings
        .Set("Orchestrator:Scheduling:Interval", "00:00:00.200")
        .Set("Orchestrator:Webhooks:PollInterval", "00:00:00.100")
        .Set("Orchestrator:Webhooks:FirstRetryDelay", "00:00:00.200")
        .Set("Orchestrator:Webhooks:MaxRetryDelay", "00:00:01")
        .Set("Orchestrator:Webhooks:GiveUpAfter", "00:02:00")
        .Set("Orchestrator:Webhooks:PublicBaseUrl", PublicBaseUrl)
        .Set("Logging:LogLevel:Default", "Debug");

    protected override void ConfigureServices(IServiceCollection services) => services.AddSingleton<ILoggerProvider>(Logs);
}

/// <summary>
/// Agent webhooks end to end: the real orchestrator on PostgreSQL, RabbitMQ and Redis posts to a real local HTTP
/// receiver that verifies every signature.
/// </summary>
public sealed class AgentWebhookTests(WebhookPlane fixture) : IClassFixture<WebhookPlane>, IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly OrchestratorPlane _plane = fixture.Plane;
    private WebhookReceiver _receiver = null!;

    public async ValueTask InitializeAsync() => _receiver = await WebhookReceiver.StartAsync();

    public async ValueTask DisposeAsync() => await _receiver.DisposeAsync();

    private static string Key() => "hook-" + Guid.NewGuid().ToString("N")[..12];

    [Fact]
    public async Task A_dev_proposals_state_changes_arrive_in_order_signed_and_linked()
    {
        var secret = await RegisterAsync(IdentityFixture.RemediationAgent, "ordered");

        var id = await _plane.SubmitAssessedAsync(OrchestratorPlane.Proposal(Key()), OrchestratorPlane.Allow());
        await _plane.WaitForStateAsync(id, ProposalState.Completed, Patience);
        var history = (await _plane.GetAsync(id)).History;
        var received = await ArrivedAsync("ordered", id, history.Count);

        Assert.All(received, r => Assert.True(r.Verified, "signature did not verify: " + r.Signature));
        Assert.Equal(history.Select(h => h.Version), received.Select(r => r.Data.GetProperty("version").GetInt64()));
        Assert.Equal(history.Select(h => ProposalStateMachineName(h.To)), received.Select(r => r.Data.GetProperty("to").GetString()));
        Assert.Equal(history.Select(h => ProposalStateMachineName(h.From)), received.Select(r => r.Data.GetProperty("from").GetString()));
        Assert.Equal("completed", received[^1].Data.GetProperty("to").GetString());
        Assert.Equal(received.Count, received.Select(r => r.Id).Distinct().Count());
        Assert.All(received, r => Assert.Equal($"{WebhookPlane.PublicBaseUrl}/proposals/{id}", r.Data.GetProperty("link").GetString()));
        Assert.All(received, r => Assert.Equal(WebhookPayload.StateChanged, JsonDocument.Parse(r.Body).RootElement.GetProperty("type").GetString()));
        Assert.NotEmpty(secret);
    }

    [Fact]
    public async Task A_receiver_that_is_down_for_a_while_gets_every_delivery_once_when_it_is_back()
    {
        await using var proxy = new TcpProxy("127.0.0.1", _receiver.Port); // not started: connections are refused
        await RegisterAsync(IdentityFixture.RemediationAgent, "downup", new Uri($"http://127.0.0.1:{proxy.Port}/downup"));

        var first = await _plane.SubmitAssessedAsync(OrchestratorPlane.Proposal(Key()), OrchestratorPlane.Allow());
        var second = await _plane.SubmitAssessedAsync(OrchestratorPlane.Proposal(Key(), targets: ["ledger"]), OrchestratorPlane.Allow());
        await _plane.WaitForStateAsync(first, ProposalState.Completed, Patience);
        await _plane.WaitForStateAsync(second, ProposalState.Completed, Patience);
        // The outage is seen and recorded: attempts made, the reason kept, nothing delivered.
        var waiting = await Eventually.UntilAsync(() => DeliveriesAsync(IdentityFixture.RemediationAgent, $"?proposalId={first}"),
            l => l.Any(d => d.Attempts >= 2), Patience, "failed attempts while the receiver is down");
        Assert.Contains(waiting, d => d.Status == "pending" && d.LastError is { Length: > 0 } && d.LastStatus is null);
        Assert.Empty(_receiver.Received);

        proxy.Start();

        foreach (var id in new[] { first, second })
        {
            var history = (await _plane.GetAsync(id)).History;
            var received = await ArrivedAsync("downup", id, history.Count);
            Assert.Equal(history.Select(h => h.Version), received.Select(r => r.Data.GetProperty("version").GetInt64()));
            Assert.All(received, r => Assert.True(r.Verified));
            // The dispatcher records a delivery after the receiver answered, so the last one may still be on its way.
            var stored = await Eventually.UntilAsync(() => DeliveriesAsync(IdentityFixture.RemediationAgent, $"?proposalId={id}"),
                l => l.All(d => d.Status == "delivered"), Patience, "every delivery recorded as delivered");
            Assert.Equal(stored.Select(d => d.WebhookId).Order(), received.Select(r => r.Id).Order());
        }
    }

    [Fact]
    public async Task Dispatchers_racing_on_one_outbox_send_each_delivery_once_and_each_proposal_in_order()
    {
        await RegisterAsync(IdentityFixture.RemediationAgent, "raced");
        _receiver.Delay = TimeSpan.FromMilliseconds(100);
        // Three more dispatchers on the same database beside the host's own, as other replicas would be.
        using var stop = new CancellationTokenSource();
        var rivals = Enumerable.Range(0, 3)
            .Select(_ => ActivatorUtilities.CreateInstance<WebhookDispatcher>(_plane.Host!.Services))
            .Select(d => Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    if (!await d.SendNextAsync(stop.Token))
                    {
                        await Task.Delay(20, stop.Token);
                    }
                }
            }, stop.Token))
            .ToList();

        var ids = new List<Guid>();
        foreach (var target in new[] { "billing", "ledger", "checkout" })
        {
            ids.Add(await _plane.SubmitAssessedAsync(OrchestratorPlane.Proposal(Key(), targets: [target]), OrchestratorPlane.Allow()));
        }

        foreach (var id in ids)
        {
            await _plane.WaitForStateAsync(id, ProposalState.Completed, Patience);
            var history = (await _plane.GetAsync(id)).History;
            var received = await ArrivedAsync("raced", id, history.Count);
            Assert.Equal(history.Select(h => h.Version), received.Select(r => r.Data.GetProperty("version").GetInt64()));
        }

        await stop.CancelAsync();
        await Task.WhenAll(rivals.Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default)));
        var all = _receiver.Received.Where(r => r.Path == "raced").ToList();
        Assert.Equal(all.Count, all.Select(r => r.Id).Distinct().Count());
        Assert.True(all.Count >= ids.Count * 5, $"only {all.Count} deliveries");
    }

    [Theory]
    [InlineData(410)]
    [InlineData(400)]
    public async Task A_receiver_that_answers_a_lasting_4xx_is_not_retried_and_the_failure_is_visible(int status)
    {
        var path = $"refuses{status}";
        await RegisterAsync(IdentityFixture.TestingAgent, path, answer: status);

        var id = await _plane.SubmitAsync(IdentityFixture.TestingAgent, OrchestratorPlane.Proposal(Key(), "dev"));

        var failed = await Eventually.UntilAsync(() => DeliveriesAsync(IdentityFixture.TestingAgent, $"?status=failed&proposalId={id}"),
            l => l.Count == 1, Patience, "the failed delivery");
        Assert.Equal(1, failed[0].Attempts);
        Assert.Equal(status, failed[0].LastStatus);
        Assert.Contains($"HTTP {status}", failed[0].LastError, StringComparison.Ordinal);
        Assert.Single(_receiver.For(path, id));
        Assert.Empty(await DeliveriesAsync(IdentityFixture.TestingAgent, $"?status=pending&proposalId={id}"));
    }

    [Fact]
    public async Task Another_agent_cannot_read_change_or_delete_the_registration()
    {
        await RegisterAsync(IdentityFixture.RemediationAgent, "mine");
        using var other = await _plane.AgentAsync(IdentityFixture.WatcherAgent);
        await other.DeleteAsync(AgentWebhooksApi.Path.TrimStart('/'));

        using var read = await other.GetAsync(AgentWebhooksApi.Path.TrimStart('/'));
        using var deleted = await other.DeleteAsync(AgentWebhooksApi.Path.TrimStart('/'));
        using var deliveries = await other.GetAsync(AgentWebhooksApi.Path.TrimStart('/') + "/deliveries");

        Assert.Equal(HttpStatusCode.NotFound, read.StatusCode);
        Assert.DoesNotContain("/mine", await read.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, deleted.StatusCode);
        Assert.DoesNotContain(IdentityFixture.RemediationAgent, await deliveries.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var owner = await _plane.AgentAsync(IdentityFixture.RemediationAgent);
        var still = await owner.GetFromJsonAsync<WebhookView>(AgentWebhooksApi.Path.TrimStart('/'));
        Assert.EndsWith("/mine", still!.Url, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(IdentityFixture.Vera, false)]        // a human viewer proposes nothing
    [InlineData(IdentityFixture.IdleAgent, true)]    // an agent without a proposer binding has no proposals to follow
    public async Task Only_principals_that_may_propose_have_a_webhook(string principal, bool agent)
    {
        using var http = agent ? await _plane.AgentAsync(principal) : await _plane.HumanAsync(principal);
        using var anonymous = _plane.Host!.CreateHttpClient();

        using var put = await http.PutAsJsonAsync(AgentWebhooksApi.Path.TrimStart('/'), new { url = "https://agent.example.com/hook" });
        using var get = await anonymous.GetAsync(AgentWebhooksApi.Path.TrimStart('/'));

        Assert.Equal(HttpStatusCode.Forbidden, put.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, get.StatusCode);
    }

    [Theory]
    [InlineData("""{"url":"http://agent.example.com/hook"}""", "url")]
    [InlineData("""{"url":"ftp://agent.example.com/hook"}""", "url")]
    [InlineData("""{"url":"https://agent.example.com/hook","secret":"mine"}""", "secret")]
    [InlineData("""{"url":"https://agent.example.com/hook","states":["done"]}""", "states")]
    [InlineData("""{"states":["completed"]}""", "url")]
    [InlineData("""{"url":""", "body")]
    public async Task A_bad_registration_is_a_problem_naming_the_field(string json, string field)
    {
        using var http = await _plane.AgentAsync(IdentityFixture.TestingAgent);

        using var response = await http.PutAsync(AgentWebhooksApi.Path.TrimStart('/'), new StringContent(json, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    [Fact]
    public async Task A_registration_that_is_not_json_is_415()
    {
        using var http = await _plane.AgentAsync(IdentityFixture.TestingAgent);

        using var response = await http.PutAsync(AgentWebhooksApi.Path.TrimStart('/'), new StringContent("url=https://x", Encoding.UTF8, "text/plain"));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_rotated_secret_signs_later_deliveries_and_no_secret_reaches_the_logs()
    {
        var first = await RegisterAsync(IdentityFixture.RemediationAgent, "rotated");
        using var http = await _plane.AgentAsync(IdentityFixture.RemediationAgent);
        using var rotation = await http.PostAsync(AgentWebhooksApi.Path.TrimStart('/') + "/secret", null);
        rotation.EnsureSuccessStatusCode();
        var second = (await rotation.Content.ReadFromJsonAsync<WebhookSecretIssued>())!.Secret;
        _receiver.Expect("rotated", second);
        using var read = await http.GetAsync(AgentWebhooksApi.Path.TrimStart('/'));

        var id = await _plane.SubmitAsync(IdentityFixture.RemediationAgent, OrchestratorPlane.Proposal(Key()));
        var received = await ArrivedAsync("rotated", id, 1);

        Assert.NotEqual(first, second);
        Assert.True(received[0].Verified, "the delivery after rotation is not signed with the new secret");
        Assert.DoesNotContain("whsec_", await read.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var logs = fixture.Logs.Lines;
        Assert.NotEmpty(logs);
        foreach (var secret in new[] { first, second })
        {
            var key = secret["whsec_".Length..];
            Assert.DoesNotContain(logs, l => l.Contains(key, StringComparison.Ordinal));
        }

        Assert.DoesNotContain(logs, l => l.Contains(received[0].Signature, StringComparison.Ordinal));
    }

    /// <summary>Replaces the agent's webhook with one to the receiver's <paramref name="path"/>; returns the new secret.</summary>
    private async Task<string> RegisterAsync(string agent, string path, Uri? url = null, int answer = 204)
    {
        using var http = await _plane.AgentAsync(agent);
        (await http.DeleteAsync(AgentWebhooksApi.Path.TrimStart('/'))).Dispose();
        using var response = await http.PutAsJsonAsync(AgentWebhooksApi.Path.TrimStart('/'), new { url = (url ?? new Uri(_receiver.Address, path)).AbsoluteUri });
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"register answered {(int)response.StatusCode}: {text}");
        var secret = JsonDocument.Parse(text).RootElement.GetProperty("secret").GetString()!;
        _receiver.Expect(path, secret, answer);
        return secret;
    }

    private async Task<IReadOnlyList<DeliveryView>> DeliveriesAsync(string agent, string query)
    {
        using var http = await _plane.AgentAsync(agent);
        return (await http.GetFromJsonAsync<List<DeliveryView>>(AgentWebhooksApi.Path.TrimStart('/') + "/deliveries" + query))!;
    }

    private Task<IReadOnlyList<ReceivedDelivery>> ArrivedAsync(string path, Guid id, int count) =>
        Eventually.UntilAsync(() => Task.FromResult(_receiver.For(path, id)), l => l.Count >= count, Patience, $"{count} deliveries of {id}");

    private static string ProposalStateMachineName(ProposalState state) => Data.StateNames.Of(state);
}

using System.Net;
using System.Text;
using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Orchestrator.BusContract;
using ControlPlane.Orchestrator.Tests.BusContract;
using ControlPlane.Orchestrator.Tests.Infrastructure;
using ControlPlane.Testing;
using RabbitMQ.Client;

namespace ControlPlane.Orchestrator.Tests.Integration;

/// <summary>
/// The language-neutral bus contract (docs/asyncapi.yaml): an agent with nothing but an AMQP client publishes the
/// bare SubmitProposal JSON with its token in a header, as a Python or TypeScript agent would.
/// </summary>
public sealed partial class IntakeTests
{
    private const string SubmitQueue = "orchestrator-submit-proposal";
    private const string SubmitExchange = "ControlPlane.Contracts:SubmitProposal";

    [Fact]
    public async Task A_plain_json_submission_with_the_token_header_becomes_a_proposal()
    {
        var key = Key();
        var token = await _plane.Identity.AgentTokenAsync(IdentityFixture.TestingAgent);
        var proposal = OrchestratorPlane.Proposal(key, "staging", targets: ["checkout"], summary: key);

        await PublishRawAsync(SubmitExchange, JsonSerializer.SerializeToUtf8Bytes(proposal, ContractJson.Options), token);

        var submitted = await _plane.Bus.WaitForAsync<ProposalSubmitted>(s => s.Action.Summary == key, "ProposalSubmitted for the plain JSON submission");
        var stored = await _plane.GetAsync(submitted.ProposalId);
        Assert.Equal(IdentityFixture.TestingAgent, stored.AgentId);
        Assert.Equal(["checkout"], stored.Targets);
        Assert.Equal("staging", stored.Environment);
        Assert.Equal("submitted over bus", stored.History[0].Reason);
    }

    [Theory]
    [InlineData("not-a-jwt", "staging", "invalid agent token")]
    [InlineData(null, "staging", "invalid agent token: no agent token header")]
    [InlineData(IdentityFixture.RemediationAgent, "moon", "invalid submission: environment")]
    public async Task A_plain_json_submission_that_cannot_be_accepted_is_refused_and_lands_in_the_error_queue(string? agent, string environment, string reason)
    {
        var key = Key();
        var token = agent is null or "not-a-jwt" ? agent : await _plane.Identity.AgentTokenAsync(agent);
        var proposal = OrchestratorPlane.Proposal(key, environment, summary: key);

        await PublishRawAsync(SubmitQueue, JsonSerializer.SerializeToUtf8Bytes(proposal, ContractJson.Options), token);

        var refusal = await _plane.Bus.WaitForAsync<ProposalSubmissionRefused>(r => r.IdempotencyKey == key, "the refusal recorded");
        Assert.Equal("bus", refusal.Channel);
        Assert.Contains(reason, refusal.Reason, StringComparison.Ordinal);
        var faulted = await ErrorQueueMessageAsync(key);
        Assert.Contains(reason, FaultReason(faulted), StringComparison.Ordinal);
        Assert.DoesNotContain(_plane.Bus.Seen<ProposalSubmitted>(), s => s.Action.Summary == key);
    }

    [Fact]
    public async Task Plain_json_missing_fields_is_refused_naming_them_like_http()
    {
        var key = Key();
        var token = await _plane.Identity.AgentTokenAsync(IdentityFixture.TestingAgent);

        await PublishRawAsync(SubmitExchange, Encoding.UTF8.GetBytes($$"""{"idempotencyKey":"{{key}}","targets":["billing"],"environment":"dev"}"""), token);

        var refusal = await _plane.Bus.WaitForAsync<ProposalSubmissionRefused>(r => r.IdempotencyKey == key, "the refusal recorded");
        Assert.Equal(IdentityFixture.TestingAgent, refusal.AgentId);
        Assert.Contains("invalid submission", refusal.Reason, StringComparison.Ordinal);
        Assert.Contains("action", refusal.Reason, StringComparison.Ordinal);
        Assert.Contains("change", refusal.Reason, StringComparison.Ordinal);
        Assert.Contains("invalid submission", FaultReason(await ErrorQueueMessageAsync(key)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Plain_json_that_does_not_parse_lands_in_the_error_queue_with_a_reason()
    {
        var key = Key();
        var token = await _plane.Identity.AgentTokenAsync(IdentityFixture.TestingAgent);

        await PublishRawAsync(SubmitQueue, Encoding.UTF8.GetBytes($$"""{"idempotencyKey":"{{key}}","action":{"kind":"""), token);

        var faulted = await ErrorQueueMessageAsync(key);
        Assert.False(string.IsNullOrWhiteSpace(FaultReason(faulted)), "the broken message carries no reason: " + faulted);
    }

    [Fact]
    public async Task The_bus_contract_is_served_without_a_token_as_shipped()
    {
        using var anonymous = _plane.Host!.CreateHttpClient();

        using var response = await anonymous.GetAsync(BusContractApi.Path.TrimStart('/'));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(BusContractApi.ContentType, response.Content.Headers.ContentType?.MediaType);
        var served = await response.Content.ReadAsStringAsync();
        Assert.Equal(BusContractApi.Read(), served);
        Assert.Equal("3.0.0", AsyncApiContractTests.Load(served)["asyncapi"]!.GetValue<string>());
    }

    private async Task PublishRawAsync(string exchange, byte[] body, string? token)
    {
        var factory = new ConnectionFactory { Uri = new Uri(_plane.VirtualHost.ConnectionString) };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        var headers = new Dictionary<string, object?>();
        if (token is not null)
        {
            headers[ControlPlane.Contracts.MessageHeaders.AgentToken] = token;
        }

        var properties = new BasicProperties { ContentType = "application/json", MessageId = Guid.NewGuid().ToString(), Headers = headers };
        await channel.BasicPublishAsync(exchange, string.Empty, mandatory: true, properties, body);
    }

    private Task<JsonElement> ErrorQueueMessageAsync(string key) =>
        Eventually.UntilAsync(
            async () => (await _plane.VirtualHost.PeekAsync(SubmitQueue + "_error", 100)).FirstOrDefault(m => m.GetProperty("payload").GetString()?.Contains(key, StringComparison.Ordinal) == true),
            m => m.ValueKind != JsonValueKind.Undefined, TimeSpan.FromSeconds(20), "the message in the _error queue");

    private static string FaultReason(JsonElement message)
    {
        var headers = message.GetProperty("properties").GetProperty("headers");
        return string.Join(" | ", new[] { "MT-Fault-Message", "MT-Reason" }
            .Select(name => headers.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null)
            .OfType<string>());
    }
}

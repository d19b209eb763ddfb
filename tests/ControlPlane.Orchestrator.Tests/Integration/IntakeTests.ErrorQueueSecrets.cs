using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ControlPlane.Contracts;
using ControlPlane.Orchestrator.Tests.Infrastructure;
using ControlPlane.ServiceDefaults.Messaging;
using ControlPlane.Testing;
using RabbitMQ.Client;

namespace ControlPlane.Orchestrator.Tests.Integration;

/// <summary>
/// A refused bus submission moves to the _error queue, which anyone with broker management access reads: the
/// agent's (valid) token it carried must not be there, neither as an AMQP header nor in a MassTransit envelope.
/// </summary>
public sealed partial class IntakeTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_refused_submission_reaches_the_error_queue_without_the_agent_token(bool envelope)
    {
        var key = Key();
        // A real, valid token of an agent that holds no binding: refused for permission, and a secret worth stealing.
        var token = await _plane.Identity.AgentTokenAsync(IdentityFixture.IdleAgent);
        var proposal = JsonSerializer.SerializeToNode(OrchestratorPlane.Proposal(key, summary: key), ContractJson.Options)!;
        byte[] body;
        string contentType;
        if (envelope)
        {
            // What a MassTransit publisher writes: the header both in AMQP and in the envelope's own headers.
            body = Encoding.UTF8.GetBytes(new JsonObject
            {
                ["messageId"] = Guid.NewGuid().ToString(),
                ["messageType"] = new JsonArray("urn:message:ControlPlane.Contracts:SubmitProposal"),
                ["message"] = proposal,
                ["headers"] = new JsonObject { [ControlPlane.Contracts.MessageHeaders.AgentToken] = token },
            }.ToJsonString());
            contentType = "application/vnd.masstransit+json";
        }
        else
        {
            body = Encoding.UTF8.GetBytes(proposal.ToJsonString());
            contentType = "application/json";
        }

        await PublishAsync(SubmitExchange, body, contentType, token);

        var refusal = await _plane.Bus.WaitForAsync<ProposalSubmissionRefused>(r => r.IdempotencyKey == key, "the refusal recorded");
        Assert.Contains("does not hold a binding", refusal.Reason, StringComparison.Ordinal);
        var (headers, payload) = await Eventually.UntilAsync(() => ReadErrorQueueAsync(key), m => m is not null, TimeSpan.FromSeconds(20),
            "the refused message in the _error queue") ?? throw new InvalidOperationException("unreachable");

        Assert.DoesNotContain(token, payload, StringComparison.Ordinal);
        Assert.Contains(key, payload, StringComparison.Ordinal);
        Assert.DoesNotContain(headers.Values, v => v.Contains(token, StringComparison.Ordinal));
        Assert.Equal(SecretHeaderScrubbing.Note, headers[ControlPlane.Contracts.MessageHeaders.AgentToken]);
        Assert.Contains("does not hold a binding", headers["MT-Reason"] + headers.GetValueOrDefault("MT-Fault-Message"), StringComparison.Ordinal);
        if (envelope)
        {
            var stored = JsonNode.Parse(payload)!["headers"]![ControlPlane.Contracts.MessageHeaders.AgentToken]!.GetValue<string>();
            Assert.Equal(SecretHeaderScrubbing.Note, stored);
        }
    }

    private async Task PublishAsync(string exchange, byte[] body, string contentType, string token)
    {
        var factory = new ConnectionFactory { Uri = new Uri(_plane.VirtualHost.ConnectionString) };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        var properties = new BasicProperties
        {
            ContentType = contentType,
            MessageId = Guid.NewGuid().ToString(),
            Headers = new Dictionary<string, object?> { [ControlPlane.Contracts.MessageHeaders.AgentToken] = token },
        };
        await channel.BasicPublishAsync(exchange, string.Empty, mandatory: true, properties, body);
    }

    /// <summary>Reads the _error queue with a plain AMQP client (as anyone with access would); the message stays there.</summary>
    private async Task<(Dictionary<string, string> Headers, string Payload)?> ReadErrorQueueAsync(string key)
    {
        var factory = new ConnectionFactory { Uri = new Uri(_plane.VirtualHost.ConnectionString) };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        // Unacknowledged gets return to the queue when the channel closes.
        while (await GetAsync(channel) is { } message)
        {
            var payload = Encoding.UTF8.GetString(message.Body.Span);
            if (payload.Contains(key, StringComparison.Ordinal))
            {
                var headers = (message.BasicProperties.Headers ?? new Dictionary<string, object?>()).ToDictionary(
                    h => h.Key, h => h.Value is byte[] bytes ? Encoding.UTF8.GetString(bytes) : h.Value?.ToString() ?? string.Empty, StringComparer.Ordinal);
                return (headers, payload);
            }
        }

        return null;
    }

    /// <summary>The next message of the _error queue; null when it is empty or not declared yet (before the first move).</summary>
    private static async Task<BasicGetResult?> GetAsync(IChannel channel)
    {
        try
        {
            return await channel.BasicGetAsync(SubmitQueue + "_error", autoAck: false);
        }
        catch (RabbitMQ.Client.Exceptions.OperationInterruptedException ex) when (ex.ShutdownReason?.ReplyCode == 404)
        {
            return null;
        }
    }
}

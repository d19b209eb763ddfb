using System.Text.Json.Nodes;
using MassTransit;
using MassTransit.Context;
using MassTransit.Middleware;
using MassTransit.RabbitMqTransport;

namespace ControlPlane.ServiceDefaults.Messaging;

/// <summary>
/// A message that ends in an _error queue is readable by anyone with management access to the broker, so a
/// secret header it carried (an agent token) is replaced by a note before the move: in the AMQP headers (plain
/// JSON and envelopes alike) and in a MassTransit envelope's own "headers" object.
/// </summary>
public static class SecretHeaderScrubbing
{
    public const string Note = "(removed by the control plane before the move to the _error queue)";

    /// <summary>The endpoint's error pipe: faults as usual, then the named headers replaced, then the move to _error.</summary>
    public static void RemoveSecretHeadersBeforeError(this IReceiveEndpointConfigurator endpoint, params string[] headerNames)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        endpoint.ConfigureError(x =>
        {
            x.UseFilter(new GenerateFaultFilter());
            x.UseFilter(new ScrubSecretHeadersFilter(headerNames));
            x.UseFilter(new ErrorTransportFilter());
        });
    }

    /// <summary>The envelope with every named header (case-insensitive) in its "headers" object replaced; null when none was there.</summary>
    public static byte[]? ScrubEnvelope(ReadOnlySpan<byte> body, IReadOnlyCollection<string> headerNames)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(body);
        }
        catch (System.Text.Json.JsonException)
        {
            return null; // not JSON: it carries no envelope headers
        }

        if (root is not JsonObject envelope || envelope["headers"] is not JsonObject headers)
        {
            return null;
        }

        var found = headers.Select(h => h.Key).Where(k => headerNames.Contains(k, StringComparer.OrdinalIgnoreCase)).ToList();
        foreach (var key in found)
        {
            headers[key] = Note;
        }

        return found.Count == 0 ? null : System.Text.Encoding.UTF8.GetBytes(envelope.ToJsonString());
    }

    private sealed class ScrubSecretHeadersFilter(string[] headerNames) : IFilter<ExceptionReceiveContext>
    {
        public async Task Send(ExceptionReceiveContext context, IPipe<ExceptionReceiveContext> next)
        {
            // The move copies the delivered AMQP properties: replacing the value in them is what reaches _error.
            if (context.TryGetPayload(out RabbitMqBasicConsumeContext? rabbit) && rabbit.Properties.Headers is { } amqp)
            {
                foreach (var key in amqp.Keys.Where(k => headerNames.Contains(k, StringComparer.OrdinalIgnoreCase)).ToList())
                {
                    amqp[key] = Note;
                }
            }

            var scrubbed = ScrubEnvelope(context.GetBody(), headerNames);
            await next.Send(scrubbed is null ? context : new ScrubbedBodyContext(context, new BytesMessageBody(scrubbed)));
        }

        public void Probe(ProbeContext context) => context.CreateFilterScope("scrubSecretHeaders");
    }

    /// <summary>The failed message with its envelope body replaced; everything else is the original context.</summary>
    private sealed class ScrubbedBodyContext(ExceptionReceiveContext inner, MessageBody body) : ReceiveContextProxy(inner), ExceptionReceiveContext, ReceiveContext
    {
        MessageBody ReceiveContext.Body => body;

        public Exception Exception => inner.Exception;

        public DateTime ExceptionTimestamp => inner.ExceptionTimestamp;

        public ExceptionInfo ExceptionInfo => inner.ExceptionInfo;

        public SendHeaders ExceptionHeaders => inner.ExceptionHeaders;
    }
}

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using ControlPlane.Contracts;
using ControlPlane.EndToEnd.Tests.Support;
using ControlPlane.Testing;

namespace ControlPlane.EndToEnd.Tests.Telemetry;

/// <summary>
/// One trace spans a proposal across services: the caller's traceparent reaches orchestrator's request span, the
/// outbox relay, system-graph's and policy's consumers and orchestrator's own consumer, through real RabbitMQ
/// headers (each service runs its consumers on the bus's own threads, so nothing leaks in-process).
/// </summary>
[Collection(PlaneCollection.Name)]
public sealed class TraceTests(Plane plane) : IDisposable
{
    private readonly ConcurrentQueue<Activity> _stopped = new();
    private readonly ActivityListener _listener = new();

    [Fact]
    public async Task A_proposal_is_one_trace_from_the_agents_request_through_every_service_that_handles_it()
    {
        _listener.ShouldListenTo = source => source.Name is "Microsoft.AspNetCore" or "MassTransit" || source.Name.StartsWith("ControlPlane.", StringComparison.Ordinal);
        _listener.Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded;
        _listener.ActivityStopped = _stopped.Enqueue;
        ActivitySource.AddActivityListener(_listener);

        var traceId = ActivityTraceId.CreateRandom();
        using var agent = await plane.ClientAsync(Principals.RemediationAgent, "orchestrator");
        using var request = new HttpRequestMessage(HttpMethod.Post, "proposals")
        {
            Content = JsonContent.Create(Proposals.Body("restart", "Restart search (traced)", ["search"], "dev", "restart again"), options: ContractJson.Options),
        };
        // The agent's own span: HttpClient's instrumentation propagates it as traceparent (a header set by hand would
        // be replaced by the client span's own context).
        using var agentSpan = new Activity("agent submits").SetParentId(traceId, ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded).Start();
        using var response = await agent.SendAsync(request);
        agentSpan.Stop();
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);

        var inTrace = await Eventually.UntilAsync(
            () => Task.FromResult(_stopped.Where(a => a.TraceId == traceId).ToList()),
            spans => ConsumedQueues(spans).IsSupersetOf(["system-graph-proposal-submitted", "policy-impact-assessed", "orchestrator-policy-decided"]),
            TimeSpan.FromSeconds(30), "consumer spans of system-graph, policy and orchestrator in the agent's trace");

        Assert.Contains(inTrace, a => a.Source.Name == "Microsoft.AspNetCore" && a.Kind == ActivityKind.Server);
        Assert.Contains(inTrace, a => a.Source.Name == "ControlPlane.Outbox");
        Assert.Contains(inTrace, a => a.Source.Name == "MassTransit" && a.Kind == ActivityKind.Producer);
    }

    /// <summary>The queues whose consumers handled a message in these spans (MassTransit tags its consume spans with them).</summary>
    private static HashSet<string> ConsumedQueues(IEnumerable<Activity> spans) =>
    [
        .. spans.Where(a => a.Source.Name == "MassTransit" && a.Kind == ActivityKind.Consumer)
            .SelectMany(a => a.TagObjects.Where(t => t.Key is "messaging.destination.name" or "messaging.rabbitmq.destination.routing_key" or "peer.address")
                .Select(t => t.Value?.ToString() ?? string.Empty)
                .Concat([a.DisplayName.Split(' ')[0]])),
    ];

    public void Dispose() => _listener.Dispose();
}

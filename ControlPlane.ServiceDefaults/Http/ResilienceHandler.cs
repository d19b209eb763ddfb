using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace ControlPlane.ServiceDefaults.Http;

/// <summary>
/// The HttpClient resilience pipeline, built from Polly.Core strategies because Microsoft.Extensions.Http.Resilience
/// is not served here: total timeout → retry (jittered, transient failures only, idempotent requests only) →
/// circuit breaker (one per destination authority) → per-attempt timeout.
/// </summary>
public sealed class ResilienceHandler(ResiliencePipelines pipelines) : DelegatingHandler
{
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var pipeline = pipelines.For(request.RequestUri?.Authority ?? "unknown", CanRetry(request));
        return await pipeline.ExecuteAsync(
            static async (state, token) => await state.Handler.SendCoreAsync(state.Request, token).ConfigureAwait(false),
            (Handler: this, Request: request),
            cancellationToken).ConfigureAwait(false);
    }

    private Task<HttpResponseMessage> SendCoreAsync(HttpRequestMessage request, CancellationToken token) => base.SendAsync(request, token);

    // RFC 9110 idempotent methods may be repeated; a POST only when the caller made it idempotent with a key.
    public static bool CanRetry(HttpRequestMessage request) =>
        request.Method == HttpMethod.Get || request.Method == HttpMethod.Head || request.Method == HttpMethod.Options ||
        request.Method == HttpMethod.Put || request.Method == HttpMethod.Delete ||
        request.Headers.Contains(IdempotencyKeyHeader);
}

/// <summary>Holds one pipeline pair per destination so circuit-breaker state outlives handler recycling.</summary>
public sealed class ResiliencePipelines
{
    private static readonly Meter Meter = new("ControlPlane.Http");
    private static readonly Counter<long> Retries = Meter.CreateCounter<long>("controlplane.http.client.retries", description: "HTTP attempts retried after a transient failure");
    private static readonly Counter<long> BreakerOpened = Meter.CreateCounter<long>("controlplane.http.client.circuit_opened", description: "Circuit breakers opened per destination");

    private readonly ConcurrentDictionary<(string, bool), ResiliencePipeline<HttpResponseMessage>> _pipelines = new();
    private readonly HttpResilienceOptions _options;

    public ResiliencePipelines(HttpResilienceOptions? options = null) => _options = options ?? new HttpResilienceOptions();

    public ResiliencePipeline<HttpResponseMessage> For(string authority, bool retry) =>
        _pipelines.GetOrAdd((authority, retry), key => Build(key.Item1, key.Item2));

    private ResiliencePipeline<HttpResponseMessage> Build(string authority, bool retry)
    {
        var tags = new KeyValuePair<string, object?>("server.address", authority);
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage>().AddTimeout(_options.TotalTimeout);
        if (retry)
        {
            builder.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                ShouldHandle = args => ValueTask.FromResult(IsTransient(args.Outcome)),
                MaxRetryAttempts = _options.MaxRetryAttempts,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = _options.RetryBaseDelay,
                OnRetry = args =>
                {
                    args.Outcome.Result?.Dispose(); // the failed response is replaced by the next attempt
                    Retries.Add(1, tags);
                    return ValueTask.CompletedTask;
                },
            });
        }

        return builder
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions<HttpResponseMessage>
            {
                ShouldHandle = args => ValueTask.FromResult(IsTransient(args.Outcome)),
                FailureRatio = 0.5,
                MinimumThroughput = 10,
                SamplingDuration = TimeSpan.FromSeconds(30),
                BreakDuration = _options.BreakDuration,
                OnOpened = _ =>
                {
                    BreakerOpened.Add(1, tags);
                    return ValueTask.CompletedTask;
                },
            })
            .AddTimeout(_options.AttemptTimeout)
            .Build();
    }

    public static bool IsTransient(Outcome<HttpResponseMessage> outcome) => outcome switch
    {
        { Exception: HttpRequestException or TimeoutRejectedException } => true,
        { Result: { } response } => (int)response.StatusCode >= 500 || response.StatusCode is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests,
        _ => false,
    };
}

public sealed record HttpResilienceOptions
{
    public TimeSpan TotalTimeout { get; init; } = TimeSpan.FromSeconds(30);
    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromSeconds(10);
    public int MaxRetryAttempts { get; init; } = 3;
    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromMilliseconds(200);
    public TimeSpan BreakDuration { get; init; } = TimeSpan.FromSeconds(5);
}

using System.Net;
using ControlPlane.ServiceDefaults.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;

namespace ControlPlane.ServiceDefaults.Tests.Unit;

/// <summary>The pipeline every HttpClient of the plane gets (AddControlPlaneResilience), over a scripted network.</summary>
public sealed class ResilienceTests
{
    /// <summary>Answers from a script of status codes and counts the attempts: a stand-in for the network, not for a server.</summary>
    private sealed class ScriptedHandler(params HttpStatusCode[] script) : HttpMessageHandler
    {
        public int Attempts { get; private set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(new HttpResponseMessage(script[Math.Min(Attempts++, script.Length - 1)]));
    }

    private static (HttpClient Client, ScriptedHandler Network) Client(params HttpStatusCode[] script)
    {
        var network = new ScriptedHandler(script);
        var services = new ServiceCollection();
        services.AddHttpClient("svc", c => c.BaseAddress = new Uri($"http://svc-{Guid.NewGuid():N}/"))
            .ConfigurePrimaryHttpMessageHandler(() => network)
            .AddControlPlaneResilience();
        services.Configure<HttpStandardResilienceOptions>("svc-standard", o => o.Retry.Delay = TimeSpan.FromMilliseconds(1));
        var client = services.BuildServiceProvider().GetRequiredService<IHttpClientFactory>().CreateClient("svc");
        return (client, network);
    }

    [Fact]
    public async Task A_get_is_retried_through_transient_failures()
    {
        var (client, network) = Client(HttpStatusCode.ServiceUnavailable, HttpStatusCode.BadGateway, HttpStatusCode.OK);
        using var response = await client.GetAsync("x");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(3, network.Attempts);
    }

    [Fact]
    public async Task A_client_error_is_not_retried()
    {
        var (client, network) = Client(HttpStatusCode.BadRequest, HttpStatusCode.OK);
        using var response = await client.GetAsync("x");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(1, network.Attempts);
    }

    [Fact]
    public async Task A_post_is_retried_only_when_it_carries_an_idempotency_key()
    {
        var (plain, plainNetwork) = Client(HttpStatusCode.ServiceUnavailable, HttpStatusCode.OK);
        using var once = await plain.PostAsync("x", new StringContent("{}"));

        var (keyed, keyedNetwork) = Client(HttpStatusCode.ServiceUnavailable, HttpStatusCode.OK);
        using var request = new HttpRequestMessage(HttpMethod.Post, "x") { Content = new StringContent("{}") };
        request.Headers.Add(HttpClientExtensions.IdempotencyKeyHeader, "k-1");
        using var retried = await keyed.SendAsync(request);

        Assert.Equal((HttpStatusCode.ServiceUnavailable, 1), (once.StatusCode, plainNetwork.Attempts));
        Assert.Equal((HttpStatusCode.OK, 2), (retried.StatusCode, keyedNetwork.Attempts));
    }

    [Fact]
    public async Task Retries_are_bounded()
    {
        var (client, network) = Client(HttpStatusCode.ServiceUnavailable);
        using var response = await client.GetAsync("x");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(1 + new HttpStandardResilienceOptions().Retry.MaxRetryAttempts, network.Attempts);
    }
}

using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using ControlPlane.Contracts;

namespace ControlPlane.Client;

/// <summary>
/// An agent's view of the plane over HTTP: propose (idempotent, retried on network and gateway failures), get,
/// and watch until a state. Errors are typed from the problem details (<see cref="ControlPlaneException"/> and its
/// subclasses). The HttpClient is the caller's (IHttpClientFactory or one long-lived instance).
/// </summary>
public sealed partial class ControlPlaneClient(HttpClient http, ControlPlaneClientOptions options, TokenProvider? tokens = null)
{
    public const string Audience = "orchestrator";
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    private readonly TokenProvider _tokens = tokens ?? new TokenProvider(http, options);

    /// <summary>Submits a proposal. Without a key in the request a new one is made; either way the key is sent in the body and the Idempotency-Key header.</summary>
    public async Task<Submission> ProposeAsync(ProposalRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var key = request.IdempotencyKey ?? Guid.NewGuid().ToString("N");
        var message = request.ToMessage(key);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                using var response = await SendAsync(() =>
                {
                    var post = new HttpRequestMessage(HttpMethod.Post, new Uri(options.Orchestrator, "proposals"))
                    {
                        Content = JsonContent.Create(message, options: ContractJson.Options),
                    };
                    post.Headers.Add(IdempotencyKeyHeader, key);
                    return post;
                }, cancellationToken);
                if (attempt < options.SubmitAttempts && response.StatusCode is HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout)
                {
                    await Task.Delay(Backoff(attempt), cancellationToken);
                    continue;
                }

                var accepted = await ReadAsync<Accepted>(response, cancellationToken);
                return new Submission(accepted.Id, accepted.State, accepted.Duplicate, key);
            }
            catch (HttpRequestException) when (attempt < options.SubmitAttempts)
            {
                await Task.Delay(Backoff(attempt), cancellationToken); // the same key makes the repeat the same proposal
            }
        }
    }

    public async Task<Proposal> GetAsync(Guid id, CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, new Uri(options.Orchestrator, $"proposals/{id}")), cancellationToken);
        return await ReadAsync<Proposal>(response, cancellationToken);
    }

    /// <summary>Polls until <paramref name="until"/> holds or the proposal finishes; throws <see cref="WatchTimeoutException"/> after <paramref name="timeout"/>.</summary>
    public async Task<Proposal> WatchAsync(Guid id, Func<Proposal, bool> until, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(until);
        var limit = timeout ?? TimeSpan.FromMinutes(5);
        var started = DateTimeOffset.UtcNow;
        while (true)
        {
            var proposal = await GetAsync(id, cancellationToken);
            if (until(proposal) || proposal.IsFinished)
            {
                return proposal;
            }

            if (DateTimeOffset.UtcNow - started >= limit)
            {
                throw new WatchTimeoutException(proposal, limit);
            }

            await Task.Delay(options.PollInterval, cancellationToken);
        }
    }

    /// <summary>Polls until the proposal is in one of <paramref name="states"/> or finished.</summary>
    public Task<Proposal> WatchAsync(Guid id, IReadOnlyCollection<ProposalState> states, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        WatchAsync(id, p => states.Contains(p.State), timeout, cancellationToken);

    /// <summary>Sends with the orchestrator token; on 401 renews the token once (it may have been revoked or its key rotated).</summary>
    private async Task<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> create, CancellationToken cancellationToken)
    {
        for (var renewed = false; ; renewed = true)
        {
            using var request = create();
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await _tokens.GetTokenAsync(Audience, cancellationToken));
            var response = await http.SendAsync(request, cancellationToken);
            if (response.StatusCode != HttpStatusCode.Unauthorized || renewed)
            {
                return response;
            }

            response.Dispose();
            _tokens.Invalidate(Audience);
        }
    }

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (!response.IsSuccessStatusCode)
        {
            throw await ProblemDetails.ToExceptionAsync(response, cancellationToken);
        }

        return await response.Content.ReadFromJsonAsync<T>(ContractJson.Options, cancellationToken)
            ?? throw new ControlPlaneException(response.StatusCode, "Empty answer", null, new Dictionary<string, string[]>(), null);
    }

    private static TimeSpan Backoff(int attempt) => TimeSpan.FromMilliseconds(200 * Math.Pow(2, attempt - 1));

    private sealed record Accepted(Guid Id, ProposalState State, bool Duplicate);
}

using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using ControlPlane.Client;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Evidence;
using ControlPlane.Policy.Bundles;
using ControlPlane.ServiceDefaults.Http;
using Microsoft.Extensions.Options;

namespace ControlPlane.Policy.Simulation;

/// <summary>Which recorded decisions to replay: the last N proposals decided, or those decided in [From, To); optionally one environment or agent.</summary>
public sealed record HistoryQuery(int? Last, DateTimeOffset? From, DateTimeOffset? To, string? Environment, string? Agent);

/// <summary>The decisions read, and whether the window held more than the configured maximum (then the newest are kept).</summary>
public sealed record History(IReadOnlyList<RecordedDecision> Decisions, bool Truncated);

/// <summary>
/// Evidence could not be read: the reason is for the person who asked, the status for the HTTP answer (409 when
/// policy's own identity is misconfigured, which retrying cannot fix; 503 when evidence or identity is unreachable).
/// </summary>
public sealed class EvidenceUnavailableException(int status, string message) : Exception(message)
{
    public int Status { get; } = status;
}

/// <summary>
/// Reads recorded decisions from evidence's HTTP API with policy's own client-credentials token: the proposals that
/// got a PolicyDecided (GET /evidence/records?kind=PolicyDecided, newest first), then each proposal's records
/// (GET /evidence/proposals/{id}) for its latest decision and the ImpactAssessed it was taken on (same graph
/// version, recorded before it). The assessment carries the proposal, so the facts are exactly those policy had.
/// </summary>
public sealed class EvidenceHistory(ServiceTokens tokens, IHttpClientFactory http, IConfiguration configuration, IOptions<PolicyOptions> options)
{
    public const string HttpClientName = "policy-evidence";
    private const string Evidence = "evidence";
    private const int PageSize = 1000;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>What is missing for simulation to read evidence; null when nothing is.</summary>
    public string? MissingConfiguration()
    {
        var missing = new List<string>();
        if (!options.Value.ServiceClient.IsConfigured)
        {
            missing.Add("Policy:ServiceClient:ClientId and :ClientSecret (policy's own agent, bound to viewer)");
        }

        if (ServiceEndpoints.TryResolve(configuration, "identity") is null)
        {
            missing.Add("services:identity:http:0");
        }

        if (ServiceEndpoints.TryResolve(configuration, Evidence) is null)
        {
            missing.Add("services:evidence:http:0");
        }

        return missing.Count == 0 ? null : string.Join("; ", missing);
    }

    public async Task<History> ReadAsync(HistoryQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var evidence = ServiceEndpoints.Resolve(configuration, Evidence);
        var limit = Math.Min(query.Last ?? int.MaxValue, options.Value.Simulation.MaxProposals);
        var (ids, truncated) = await DecidedProposalsAsync(evidence, query, limit, cancellationToken);
        var found = new ConcurrentDictionary<Guid, RecordedDecision>();
        await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.Value.Simulation.ReadConcurrency), CancellationToken = cancellationToken },
            async (id, ct) =>
            {
                var records = await GetAsync<ProposalEvidence>(evidence, $"evidence/proposals/{id}", ct);
                if (records is not null && Decision(id, records.Records, query) is { } decision)
                {
                    found[id] = decision;
                }
            });
        return new History([.. ids.Where(found.ContainsKey).Select(id => found[id])], truncated || (query.Last is { } last && last > limit));
    }

    /// <summary>Distinct proposal ids with a decision, newest decision first, at most <paramref name="limit"/>.</summary>
    private async Task<(List<Guid> Ids, bool Truncated)> DecidedProposalsAsync(Uri evidence, HistoryQuery query, int limit, CancellationToken cancellationToken)
    {
        var ids = new List<Guid>();
        var seen = new HashSet<Guid>();
        for (var page = 1; ; page++)
        {
            var path = $"evidence/records?kind={nameof(PolicyDecided)}&page={page.ToString(CultureInfo.InvariantCulture)}&pageSize={PageSize.ToString(CultureInfo.InvariantCulture)}"
                + Filter("environment", query.Environment) + Filter("agent", query.Agent)
                + Filter("from", query.From?.UtcDateTime.ToString("O", CultureInfo.InvariantCulture))
                + Filter("to", query.To?.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
            var found = await GetAsync<EvidenceSearchPage>(evidence, path, cancellationToken)
                ?? throw new EvidenceUnavailableException(StatusCodes.Status503ServiceUnavailable, "evidence answered the record search with nothing.");
            foreach (var record in found.Records)
            {
                if (Guid.TryParse(record.ProposalId, out var id) && seen.Add(id))
                {
                    if (ids.Count == limit)
                    {
                        return (ids, true);
                    }

                    ids.Add(id);
                }
            }

            if (found.Records.Count == 0 || (long)page * PageSize >= found.Total)
            {
                return (ids, false);
            }
        }
    }

    /// <summary>The proposal's latest decision (in the window, when one is given) with the assessment it was taken on; null when either is missing.</summary>
    private static RecordedDecision? Decision(Guid id, IReadOnlyList<EvidenceRecord> records, HistoryQuery query)
    {
        var decided = records.Where(r => r.Kind == nameof(PolicyDecided))
            .Select(r => (Record: r, Event: r.Payload.Deserialize<PolicyDecided>(ContractJson.Options)!))
            .Where(d => (query.From is null || d.Event.Decision.DecidedAt >= query.From) && (query.To is null || d.Event.Decision.DecidedAt < query.To))
            .MaxBy(d => d.Record.Sequence);
        if (decided.Event is null)
        {
            return null;
        }

        var assessments = records.Where(r => r.Kind == nameof(ImpactAssessed) && r.Sequence < decided.Record.Sequence)
            .Select(r => (Record: r, Event: r.Payload.Deserialize<ImpactAssessed>(ContractJson.Options)!)).ToList();
        var assessed = assessments.Where(a => a.Event.Impact.GraphVersion == decided.Event.GraphVersion).MaxBy(a => a.Record.Sequence);
        if (assessed.Event is null)
        {
            assessed = assessments.MaxBy(a => a.Record.Sequence);
        }

        if (assessed.Event is null)
        {
            return null;
        }

        var decision = decided.Event.Decision;
        return new RecordedDecision(id, decision.DecidedAt, PolicyFacts.From(assessed.Event.Proposal, assessed.Event.Impact), decision.Outcome,
            decision.RulesFired, decision.BundleHash);
    }

    private async Task<T?> GetAsync<T>(Uri evidence, string path, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(evidence, path));
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await tokens.GetAsync(Evidence, cancellationToken));
                using var response = await http.CreateClient(HttpClientName).SendAsync(request, cancellationToken);
                if (response.StatusCode == HttpStatusCode.NotFound && typeof(T) == typeof(ProposalEvidence))
                {
                    return default;
                }

                if (response.StatusCode == HttpStatusCode.Unauthorized && attempt == 1)
                {
                    tokens.Invalidate(Evidence); // rotated or revoked: ask identity again, once
                    continue;
                }

                if (!response.IsSuccessStatusCode)
                {
                    throw new EvidenceUnavailableException(response.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized
                            ? StatusCodes.Status409Conflict : StatusCodes.Status503ServiceUnavailable,
                        $"evidence answered {(int)response.StatusCode} to GET /{path.Split('?')[0]}" + (response.StatusCode == HttpStatusCode.Forbidden
                            ? ": policy's own identity (Policy:ServiceClient) needs evidence:read through an unscoped binding (e.g. viewer)."
                            : "."));
                }

                return await response.Content.ReadFromJsonAsync<T>(Json, cancellationToken);
            }
            catch (TokenRequestException ex)
            {
                throw new EvidenceUnavailableException(StatusCodes.Status409Conflict,
                    $"identity refused policy's own token for evidence ({ex.Message}): check Policy:ServiceClient:ClientId and :ClientSecret.");
            }
            catch (HttpRequestException)
            {
                throw new EvidenceUnavailableException(StatusCodes.Status503ServiceUnavailable, "evidence or identity is unreachable right now; try again shortly.");
            }
        }
    }

    private static string Filter(string name, string? value) => value is null ? string.Empty : $"&{name}={Uri.EscapeDataString(value)}";
}

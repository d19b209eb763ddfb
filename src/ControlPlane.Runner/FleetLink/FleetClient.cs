using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using ControlPlane.Contracts;
using ControlPlane.Runner.Reporting;
using ControlPlane.ServiceDefaults.Http;

namespace ControlPlane.Runner.FleetLink;

public enum ReportDelivery
{
    Delivered,
    Rejected,
    Retry,
}

/// <summary>A call's status and fleet's problem detail when it failed.</summary>
public sealed record FleetAnswer(HttpStatusCode Status, string? Detail)
{
    public bool IsSuccess => (int)Status is >= 200 and < 300;
}

/// <summary>The runner's side of fleet's HTTP surface, authenticated with the runner's own token.</summary>
public sealed class FleetClient(IHttpClientFactory httpClients, FleetTokenClient tokens)
{
    public const string HttpClientName = "fleet";

    public Task<FleetAnswer> RegisterAsync(RunnerRegistration registration, CancellationToken ct) =>
        SendAsync(() => new HttpRequestMessage(HttpMethod.Post, "fleet/runners") { Content = JsonContent.Create(registration, options: ContractJson.Options) }, ct);

    public Task<FleetAnswer> HeartbeatAsync(string runnerId, CancellationToken ct) =>
        SendAsync(() => new HttpRequestMessage(HttpMethod.Post, $"fleet/runners/{Uri.EscapeDataString(runnerId)}/heartbeat"), ct);

    /// <summary>Fleet's public package keys (anonymous, like JWKS).</summary>
    public async Task<FleetKeySet> GetKeysAsync(CancellationToken ct) =>
        await httpClients.CreateClient(HttpClientName).GetFromJsonAsync<FleetKeySet>("fleet/keys", ContractJson.Options, ct)
        ?? throw new HttpRequestException("fleet returned no key set");

    /// <summary>Asks fleet to confirm a signed acknowledgement; transport failures propagate (the caller decides they are transient).</summary>
    public Task<FleetAnswer> AcknowledgeAsync(Guid workId, DsseEnvelope envelope, CancellationToken ct) =>
        SendAsync(() => new HttpRequestMessage(HttpMethod.Post, $"fleet/work/{workId}/ack") { Content = JsonContent.Create(envelope, options: ContractJson.Options) }, ct);

    public async Task<(ReportDelivery Delivery, FleetAnswer? Answer)> ReportAsync(PendingReport report, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(report);
        FleetAnswer answer;
        try
        {
            answer = await SendAsync(() =>
            {
                var request = report.IsAck
                    ? new HttpRequestMessage(HttpMethod.Post, $"fleet/work/{report.WorkId}/ack") { Content = JsonContent.Create(report.Envelope, options: ContractJson.Options) }
                    : report.IsRefusal
                    ? new HttpRequestMessage(HttpMethod.Post, $"fleet/work/{report.WorkId}/refusal")
                    {
                        Content = JsonContent.Create(new WorkRefusal(report.Reason!, report.Envelope), options: ContractJson.Options),
                    }
                    : new HttpRequestMessage(HttpMethod.Post, $"fleet/work/{report.WorkId}/result")
                    {
                        Content = JsonContent.Create(report.Envelope, options: ContractJson.Options),
                    };
                // Fleet records a signed report once, so the HTTP pipeline may safely repeat it.
                request.Headers.Add(HttpClientExtensions.IdempotencyKeyHeader, report.Id);
                return request;
            }, ct);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            return (ReportDelivery.Retry, new FleetAnswer(0, ex.Message));
        }

        if (answer.IsSuccess)
        {
            return (ReportDelivery.Delivered, answer);
        }

        return (IsTransient(answer) ? ReportDelivery.Retry : ReportDelivery.Rejected, answer);
    }

    /// <summary>5xx, 408, 429 and an unusable token may pass; anything else is fleet's answer about the report itself.</summary>
    public static bool IsTransient(FleetAnswer answer) =>
        (int)answer.Status >= 500 || answer.Status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests or HttpStatusCode.Unauthorized;

    private async Task<FleetAnswer> SendAsync(Func<HttpRequestMessage> build, CancellationToken ct)
    {
        var http = httpClients.CreateClient(HttpClientName);
        for (var attempt = 0; ; attempt++)
        {
            using var request = build();
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await tokens.GetAsync(ct));
            using var response = await http.SendAsync(request, ct);
            if (response.StatusCode == HttpStatusCode.Unauthorized && attempt == 0)
            {
                tokens.Invalidate(); // a fresh token once: keys may have rotated or the old one just expired
                continue;
            }

            var detail = response.IsSuccessStatusCode ? null : await ReadDetailAsync(response, ct);
            return new FleetAnswer(response.StatusCode, detail);
        }
    }

    private static async Task<string?> ReadDetailAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var body = await response.Content.ReadAsStringAsync(ct);
        return body.Length <= 500 ? body : body[..500];
    }
}

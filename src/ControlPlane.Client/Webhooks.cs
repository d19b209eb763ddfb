using System.Net.Http.Json;
using System.Text.Json;
using ControlPlane.Contracts;

namespace ControlPlane.Client;

/// <summary>The agent's webhook as orchestrator shows it; <see cref="Secret"/> only on creation and rotation (shown once).</summary>
public sealed record WebhookRegistration(string Url, IReadOnlyList<string>? States, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt,
    DateTimeOffset SecretRotatedAt)
{
    public string? Secret { get; init; }
}

/// <summary>Checks a delivery orchestrator posted to the agent's webhook (Standard Webhooks signature and replay window).</summary>
public static class WebhookVerifier
{
    public static readonly TimeSpan DefaultTolerance = TimeSpan.FromMinutes(5);

    /// <summary>
    /// True when <paramref name="signature"/> (the webhook-signature header) signs <paramref name="id"/>,
    /// <paramref name="timestamp"/> and the raw <paramref name="body"/> under <paramref name="secret"/> (whsec_…) and the
    /// timestamp is within <paramref name="tolerance"/> of now. Verify the body exactly as received, before parsing it.
    /// </summary>
    public static bool Verify(string secret, string id, string timestamp, string signature, string body, TimeSpan? tolerance = null,
        DateTimeOffset? now = null) =>
        WebhookSignature.Verify(WebhookSignature.KeyOf(secret), id, timestamp, body, signature, now ?? DateTimeOffset.UtcNow, tolerance ?? DefaultTolerance);
}

public sealed partial class ControlPlaneClient
{
    private const string WebhookPath = "agents/me/webhook";

    /// <summary>Registers (or replaces) the agent's webhook; on creation the answer carries the signing secret, shown this once.</summary>
    public async Task<WebhookRegistration> RegisterWebhookAsync(Uri url, IReadOnlyList<ProposalState>? states = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(url);
        var body = new { url = url.AbsoluteUri, states = states?.Select(s => JsonSerializer.SerializeToElement(s, ContractJson.Options).GetString()) };
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Put, new Uri(options.Orchestrator, WebhookPath))
        {
            Content = JsonContent.Create(body, options: ContractJson.Options),
        }, cancellationToken);
        return await ReadIssuedAsync(response, cancellationToken);
    }

    /// <summary>A new signing secret for the agent's webhook (shown this once).</summary>
    public async Task<WebhookRegistration> RotateWebhookSecretAsync(CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Post, new Uri(options.Orchestrator, WebhookPath + "/secret")), cancellationToken);
        return await ReadIssuedAsync(response, cancellationToken);
    }

    public async Task DeleteWebhookAsync(CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Delete, new Uri(options.Orchestrator, WebhookPath)), cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw await ProblemDetails.ToExceptionAsync(response, cancellationToken);
        }
    }

    private static async Task<WebhookRegistration> ReadIssuedAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        // 201 and rotation answer {webhook, secret}; a replacement (200) answers the registration alone.
        var issued = await ReadAsync<JsonElement>(response, cancellationToken);
        return issued.TryGetProperty("webhook", out var webhook)
            ? webhook.Deserialize<WebhookRegistration>(ContractJson.Options)! with { Secret = issued.GetProperty("secret").GetString() }
            : issued.Deserialize<WebhookRegistration>(ContractJson.Options)!;
    }
}

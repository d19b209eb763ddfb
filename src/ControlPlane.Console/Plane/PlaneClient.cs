using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Nodes;
using ControlPlane.Console.SignIn;
using ControlPlane.Contracts;
using ControlPlane.ServiceDefaults.Http;
using Microsoft.AspNetCore.Components.Authorization;

namespace ControlPlane.Console.Plane;

/// <summary>A service's refusal or failure, with its problem details' words for the page.</summary>
public sealed class PlaneException(HttpStatusCode status, string message) : Exception(message)
{
    public HttpStatusCode Status { get; } = status;
}

/// <summary>
/// Calls a ControlPlane service as the signed-in human: each request carries the token exchanged for that service's
/// audience, so the service decides with the human's own roles. The console adds no power of its own.
/// </summary>
public sealed class PlaneClient(IHttpClientFactory http, TokenExchange exchange, AuthenticationStateProvider authentication)
{
    public static readonly string[] Services = ["identity", "system-graph", "policy", "orchestrator", "fleet", "evidence"];

    public async Task<JsonNode> GetAsync(string service, string path, CancellationToken ct = default)
    {
        using var response = await SendAsync(service, HttpMethod.Get, path, null, ct);
        return await ReadAsync(response, ct) ?? new JsonObject();
    }

    public async Task<byte[]> GetBytesAsync(string service, string path, CancellationToken ct = default)
    {
        using var response = await SendAsync(service, HttpMethod.Get, path, null, ct);
        await EnsureAsync(response, ct);
        return await response.Content.ReadAsByteArrayAsync(ct);
    }

    public async Task<JsonNode?> PostAsync(string service, string path, object body, CancellationToken ct = default)
    {
        using var response = await SendAsync(service, HttpMethod.Post, path, body, ct);
        return await ReadAsync(response, ct);
    }

    public async Task DeleteAsync(string service, string path, CancellationToken ct = default)
    {
        using var response = await SendAsync(service, HttpMethod.Delete, path, null, ct);
        await EnsureAsync(response, ct);
    }

    private async Task<HttpResponseMessage> SendAsync(string service, HttpMethod method, string path, object? body, CancellationToken ct)
    {
        var state = await authentication.GetAuthenticationStateAsync();
        var token = await exchange.TokenForAsync(state.User.FindFirstValue(ConsoleSignIn.SessionClaim), service, ct);
        var client = http.CreateClient(service);
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, options: ContractJson.Options);
        }

        return await client.SendAsync(request, ct);
    }

    private static async Task<JsonNode?> ReadAsync(HttpResponseMessage response, CancellationToken ct)
    {
        await EnsureAsync(response, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        return string.IsNullOrWhiteSpace(text) ? null : JsonNode.Parse(text);
    }

    private static async Task EnsureAsync(HttpResponseMessage response, CancellationToken ct)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var text = await response.Content.ReadAsStringAsync(ct);
        string? detail = null;
        try
        {
            var problem = JsonNode.Parse(text);
            detail = problem?["detail"]?.ToString() ?? problem?["title"]?.ToString();
            if (problem?["errors"] is JsonObject errors)
            {
                detail += " " + string.Join("; ", errors.Select(e => $"{e.Key}: {string.Join(", ", e.Value!.AsArray())}"));
            }
        }
        catch (JsonException)
        {
        }

        throw new PlaneException(response.StatusCode, $"{(int)response.StatusCode} {response.ReasonPhrase}: {detail ?? "no detail"}");
    }
}

public static class PlaneClientExtensions
{
    public static WebApplicationBuilder AddPlaneClients(this WebApplicationBuilder builder)
    {
        foreach (var service in PlaneClient.Services.Where(s => s != "identity"))
        {
            builder.Services.AddServiceClient(service);
        }

        builder.Services.AddScoped<PlaneClient>();
        builder.Services.AddScoped<HumanContext>();
        return builder;
    }
}

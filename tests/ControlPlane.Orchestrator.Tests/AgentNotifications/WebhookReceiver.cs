using System.Collections.Concurrent;
using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Orchestrator.AgentNotifications;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ControlPlane.Orchestrator.Tests.AgentNotifications;

/// <summary>One request the receiver got, and whether its signature verified with the secret it held then.</summary>
public sealed record ReceivedDelivery(string Path, string Id, string Timestamp, string Signature, string Body, bool Verified)
{
    public JsonElement Data => JsonDocument.Parse(Body).RootElement.GetProperty("data");
}

/// <summary>
/// A real HTTP receiver on Kestrel (loopback), as an agent would run: it verifies every delivery's Standard
/// Webhooks signature with the secret of its path and answers with the status the test chose for that path.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, string> _secrets = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _answers = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<ReceivedDelivery> _received = new();

    private WebhookReceiver(WebApplication app) => _app = app;

    public Uri Address { get; private set; } = null!;

    public int Port => Address.Port;

    public IReadOnlyList<ReceivedDelivery> Received => _received.ToList();

    /// <summary>How long each request takes to answer (a slow receiver widens any window for a double send).</summary>
    public TimeSpan Delay { get; set; }

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new WebhookReceiver(app);
        app.MapPost("/{**path}", (Delegate)receiver.ReceiveAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        receiver.Address = new Uri(address.Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal));
        return receiver;
    }

    /// <summary>The secret deliveries to <paramref name="path"/> are signed with, and what that path answers (default 204).</summary>
    public void Expect(string path, string secret, int answer = StatusCodes.Status204NoContent)
    {
        _secrets[path] = secret;
        _answers[path] = answer;
    }

    public void Answer(string path, int status) => _answers[path] = status;

    public IReadOnlyList<ReceivedDelivery> For(string path, Guid proposalId) =>
        Received.Where(r => r.Path == path && r.Data.GetProperty("proposalId").GetGuid() == proposalId).ToList();

    private async Task<IResult> ReceiveAsync(HttpContext http)
    {
        var path = http.Request.Path.Value!.TrimStart('/');
        using var reader = new StreamReader(http.Request.Body);
        var body = await reader.ReadToEndAsync();
        await Task.Delay(Delay);
        string Header(string name) => http.Request.Headers[name].ToString();
        var verified = _secrets.TryGetValue(path, out var secret) && WebhookSignature.Verify(WebhookSignature.KeyOf(secret),
            Header(WebhookSignature.IdHeader), Header(WebhookSignature.TimestampHeader), body, Header(WebhookSignature.SignatureHeader),
            DateTimeOffset.UtcNow, TimeSpan.FromMinutes(5));
        _received.Enqueue(new ReceivedDelivery(path, Header(WebhookSignature.IdHeader), Header(WebhookSignature.TimestampHeader),
            Header(WebhookSignature.SignatureHeader), body, verified));
        return Results.StatusCode(_answers.GetValueOrDefault(path, StatusCodes.Status204NoContent));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

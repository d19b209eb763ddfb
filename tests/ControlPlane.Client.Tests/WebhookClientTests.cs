using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using ControlPlane.Contracts;

namespace ControlPlane.Client.Tests;

/// <summary>The .NET client registers the agent's webhook and verifies what orchestrator posts to a local listener.</summary>
[Collection(ClientPlaneCollection.Name)]
public sealed class WebhookClientTests(ClientPlane plane) : IDisposable
{
    private const string Digest = "sha256:9c1185a5c5e9fc54612808977ee8f548b2258d31ddadbb2f6a1f5b8c2a0e3f41";
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };

    [Fact]
    public async Task A_registered_webhook_receives_the_agents_state_change_and_it_verifies()
    {
        var client = new ControlPlaneClient(_http, plane.Options());
        using var listener = StartListener(out var url);
        try
        {
            await client.DeleteWebhookAsync();
        }
        catch (NotFoundException)
        {
            // none yet
        }

        var registered = await client.RegisterWebhookAsync(url, [ProposalState.Submitted]);
        var rotated = await client.RotateWebhookSecretAsync();
        var submitted = await client.ProposeAsync(new ProposalRequest("deploy", "Follow billing by webhook", ["billing"], "production",
            new ChangeReference(Digest, "git@example.com:acme/billing.git#4f2c9e1", "Redeploy the previous billing image")));

        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            while (true)
            {
                var context = await listener.GetContextAsync().WaitAsync(timeout.Token);
                var body = await new StreamReader(context.Request.InputStream).ReadToEndAsync(timeout.Token);
                var (id, timestamp, signature) = (context.Request.Headers["webhook-id"]!, context.Request.Headers["webhook-timestamp"]!,
                    context.Request.Headers["webhook-signature"]!);
                context.Response.StatusCode = 204;
                context.Response.Close();
                var data = JsonDocument.Parse(body).RootElement.GetProperty("data");
                if (data.GetProperty("proposalId").GetGuid() != submitted.Id)
                {
                    continue;
                }

                Assert.True(WebhookVerifier.Verify(rotated.Secret!, id, timestamp, signature, body));
                Assert.False(WebhookVerifier.Verify(registered.Secret!, id, timestamp, signature, body));
                Assert.False(WebhookVerifier.Verify(rotated.Secret!, id, timestamp, signature, body + " "));
                Assert.Equal("submitted", data.GetProperty("to").GetString());
                break;
            }
        }
        finally
        {
            await client.DeleteWebhookAsync();
        }

        Assert.StartsWith("whsec_", registered.Secret, StringComparison.Ordinal);
        Assert.Equal(url.AbsoluteUri, registered.Url);
        Assert.Equal(["submitted"], registered.States);
    }

    private static HttpListener StartListener(out Uri url)
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        url = new Uri($"http://127.0.0.1:{port}/hook/");
        var listener = new HttpListener();
        listener.Prefixes.Add(url.AbsoluteUri);
        listener.Start();
        return listener;
    }

    public void Dispose() => _http.Dispose();
}

using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using ControlPlane.Orchestrator.AgentNotifications;

namespace ControlPlane.Orchestrator.Tests.AgentNotifications;

/// <summary>Agent webhooks cannot be pointed at the plane's own network (server-side request forgery).</summary>
public sealed class WebhookAddressGuardTests
{
    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("10.1.2.3")]
    [InlineData("172.16.0.1")]
    [InlineData("172.31.255.255")]
    [InlineData("192.168.1.1")]
    [InlineData("169.254.169.254")]
    [InlineData("100.64.0.1")]
    [InlineData("0.0.0.0")]
    [InlineData("224.0.0.1")]
    [InlineData("::1")]
    [InlineData("::")]
    [InlineData("fe80::1")]
    [InlineData("fd12:3456::1")]
    [InlineData("::ffff:10.0.0.1")]
    [InlineData("ff02::1")]
    public void Internal_addresses_are_not_public(string address) => Assert.False(WebhookAddressGuard.IsPublic(IPAddress.Parse(address)));

    [Theory]
    [InlineData("8.8.8.8")]
    [InlineData("172.32.0.1")]
    [InlineData("100.128.0.1")]
    [InlineData("192.169.0.1")]
    [InlineData("2001:4860:4860::8888")]
    [InlineData("::ffff:8.8.4.4")]
    public void Internet_addresses_are_public(string address) => Assert.True(WebhookAddressGuard.IsPublic(IPAddress.Parse(address)));

    [Theory]
    [InlineData("https://10.0.0.5/hooks")]
    [InlineData("https://169.254.169.254/latest/meta-data")]
    [InlineData("https://[::1]:8443/")]
    public void A_literal_internal_address_is_refused_at_registration_outside_development(string url)
    {
        var body = JsonNode.Parse($$"""{"url":"{{url}}"}""");

        var (refused, errors) = WebhookRegistration.Validate(body, allowLoopbackHttp: false, allowPrivateAddresses: false);
        Assert.Null(refused);
        Assert.Contains("public address", Assert.Single(errors["url"]), StringComparison.Ordinal);
        Assert.NotNull(WebhookRegistration.Validate(body, allowLoopbackHttp: false, allowPrivateAddresses: true).Webhook);
    }

    [Fact]
    public async Task A_delivery_never_connects_to_a_private_address_unless_allowed()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var url = new Uri($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/hook");

        using (var guarded = new HttpClient(WebhookAddressGuard.Handler(allowPrivateNetworks: false)))
        {
            var refused = await Assert.ThrowsAsync<HttpRequestException>(() => guarded.PostAsync(url, new StringContent("{}")));
            Assert.Contains("no public address", refused.Message, StringComparison.Ordinal);
            Assert.False(listener.Pending(), "the guard must refuse before any connection is made");
        }

        var answer = Task.Run(async () =>
        {
            using var client = await listener.AcceptTcpClientAsync();
            var stream = client.GetStream();
            var buffer = new byte[4096];
            _ = await stream.ReadAsync(buffer);
            await stream.WriteAsync("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"u8.ToArray());
        });
        using var allowed = new HttpClient(WebhookAddressGuard.Handler(allowPrivateNetworks: true));
        using var response = await allowed.PostAsync(url, new StringContent("{}"));
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        await answer;
    }
}

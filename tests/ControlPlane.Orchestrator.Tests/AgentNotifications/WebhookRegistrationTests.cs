using System.Text.Json.Nodes;
using ControlPlane.Contracts;
using ControlPlane.Orchestrator.AgentNotifications;

namespace ControlPlane.Orchestrator.Tests.AgentNotifications;

public sealed class WebhookRegistrationTests
{
    [Fact]
    public void An_https_url_with_a_state_filter_is_accepted()
    {
        var (webhook, errors) = WebhookRegistration.Validate(JsonNode.Parse("""{"url":"https://agent.example.com/hooks/cp","states":["authorized","completed","authorized"]}"""), false);

        Assert.Empty(errors);
        Assert.Equal("https://agent.example.com/hooks/cp", webhook!.Url.AbsoluteUri);
        Assert.Equal([ProposalState.Authorized, ProposalState.Completed], webhook.States);
    }

    [Fact]
    public void Without_states_every_state_is_followed() =>
        Assert.Null(WebhookRegistration.Validate(JsonNode.Parse("""{"url":"https://agent.example.com/"}"""), false).Webhook!.States);

    [Theory]
    [InlineData("http://127.0.0.1:9000/hook")]
    [InlineData("http://localhost:9000/hook")]
    [InlineData("http://[::1]:9000/hook")]
    public void Plain_http_is_accepted_only_for_loopback_and_only_where_allowed(string url)
    {
        var body = JsonNode.Parse($$"""{"url":"{{url}}"}""");

        Assert.NotNull(WebhookRegistration.Validate(body, allowLoopbackHttp: true).Webhook);
        Assert.Contains("url", WebhookRegistration.Validate(body, allowLoopbackHttp: false).Errors.Keys);
    }

    [Theory]
    [InlineData("""{"url":"http://agent.example.com/hook"}""", "url")]          // http to a real host, even in Development
    [InlineData("""{"url":"ftp://agent.example.com/hook"}""", "url")]
    [InlineData("""{"url":"/relative"}""", "url")]
    [InlineData("""{"url":"https://user:pw@agent.example.com/"}""", "url")]
    [InlineData("""{"url":"https://agent.example.com/#frag"}""", "url")]
    [InlineData("""{"states":["authorized"]}""", "url")]
    [InlineData("""{"url":"https://agent.example.com/","states":["authorised"]}""", "states")]
    [InlineData("""{"url":"https://agent.example.com/","states":[]}""", "states")]
    [InlineData("""{"url":"https://agent.example.com/","state":["authorized"]}""", "state")]  // misspelt: refused, not ignored
    [InlineData("""{"url":42}""", "body")]
    [InlineData("""[]""", "body")]
    public void A_bad_registration_names_the_field(string json, string field)
    {
        var (webhook, errors) = WebhookRegistration.Validate(JsonNode.Parse(json), allowLoopbackHttp: true);

        Assert.Null(webhook);
        Assert.Contains(field, errors.Keys);
    }

    [Fact]
    public void The_payload_carries_the_change_and_a_link_to_the_proposal()
    {
        var id = Guid.Parse("0193a000-0000-7000-8000-000000000001");
        var at = new DateTimeOffset(2026, 12, 4, 12, 0, 0, TimeSpan.Zero);

        var body = JsonNode.Parse(WebhookPayload.Build(id, "assessing", "authorized", "policy allowed", 3, at, "https://cp.example.com/"))!;

        Assert.Equal("proposal.state-changed", body["type"]!.GetValue<string>());
        var data = body["data"]!;
        Assert.Equal(id, data["proposalId"]!.GetValue<Guid>());
        Assert.Equal("assessing", data["from"]!.GetValue<string>());
        Assert.Equal("authorized", data["to"]!.GetValue<string>());
        Assert.Equal("policy allowed", data["reason"]!.GetValue<string>());
        Assert.Equal(3, data["version"]!.GetValue<long>());
        Assert.Equal(at, data["at"]!.GetValue<DateTimeOffset>());
        Assert.Equal($"https://cp.example.com/proposals/{id}", data["link"]!.GetValue<string>());
        Assert.Equal($"/proposals/{id}", JsonNode.Parse(WebhookPayload.Build(id, "a", "b", "c", 1, at, null))!["data"]!["link"]!.GetValue<string>());
    }
}

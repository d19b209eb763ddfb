using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ControlPlane.Policy.Bundles;

namespace ControlPlane.Policy.Tests.Simulation;

/// <summary>The shared policy fixture has no service credentials: simulating answers a problem naming what is missing, not a 5xx.</summary>
[Collection(PolicyCollection.Name)]
public sealed class SimulationNotConfiguredTests(PolicyFixture fixture)
{
    [Fact]
    public async Task Simulation_without_service_credentials_is_a_409_naming_the_missing_configuration()
    {
        using var admin = await fixture.ClientAsync(PolicyFixture.PolicyAdmin);
        var hash = CompiledPolicy.HashOf(BundleParser.Parse(DefaultBundle.Yaml).Bundle!);

        using var response = await admin.PostAsJsonAsync($"policies/{hash}/simulate", new { last = 10 });
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("Simulation is not configured", problem.GetProperty("title").GetString());
        var detail = problem.GetProperty("detail").GetString();
        Assert.Contains("Policy:ServiceClient:ClientId", detail, StringComparison.Ordinal);
        Assert.Contains("services:evidence:http:0", detail, StringComparison.Ordinal);
    }
}

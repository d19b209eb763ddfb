using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Identity.Seeding;
using ControlPlane.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Npgsql;

namespace ControlPlane.Identity.Tests.Seeding;

/// <summary>The demo seed run.sh uses (src/ControlPlane.Identity/Seed/demo-identity.json) loads, works, and is idempotent.</summary>
public sealed class DemoSeedTests
{
    private static readonly string SeedPath = Path.Combine(AppContext.BaseDirectory, "Seed", "demo-identity.json");

    private static async Task<IdentitySeed> ReadSeedAsync()
    {
        await using var stream = File.OpenRead(SeedPath);
        return (await JsonSerializer.DeserializeAsync<IdentitySeed>(stream, ContractJson.Options))!;
    }

    private static async Task<long> OutboxCountAsync(TestDatabase db)
    {
        await using var connection = new NpgsqlConnection(db.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("select count(*) from outbox_messages where message_type <> 'ControlPlane.Contracts.SigningKeyPublished'", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task Every_demo_human_logs_in_with_their_bindings_every_demo_agent_gets_a_token_and_a_second_start_changes_nothing()
    {
        var seed = await ReadSeedAsync();
        await using var vhost = await TestVirtualHost.CreateAsync("demo-seed");
        await using var db = await TestDatabase.CreateAsync("identity");
        var settings = new PlaneSettings(vhost, PlaneSettings.NewRedisPrefix())
            .Database("identity-db", db.ConnectionString)
            .Set("Identity:SeedFile", "Seed/demo-identity.json")
            .Set("Identity:DevLogin:Enabled", "true")
            .Build();

        long eventsAfterFirstStart;
        await using (var identity = new ServiceHost<IdentityService>(settings))
        {
            using var http = identity.CreateHttpClient();
            foreach (var human in seed.Humans!)
            {
                using var login = await http.PostAsJsonAsync("dev/token", new { principal = human.Id, audience = "identity" });
                Assert.True(login.IsSuccessStatusCode, human.Id);
                var token = new JsonWebToken(JsonDocument.Parse(await login.Content.ReadAsStringAsync()).RootElement.GetProperty("access_token").GetString());
                Assert.Equal(human.Bindings!.Order(StringComparer.Ordinal), token.Claims.Where(c => c.Type == "cp_roles").Select(c => c.Value).Order(StringComparer.Ordinal));
            }

            foreach (var agent in seed.Agents!)
            {
                Assert.StartsWith("demo-secret-", agent.Secret, StringComparison.Ordinal);
                using var request = new HttpRequestMessage(HttpMethod.Post, "connect/token")
                {
                    Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "client_credentials", ["audience"] = "orchestrator" }),
                };
                request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{agent.Id}:{agent.Secret}")));
                using var response = await http.SendAsync(request);
                Assert.True(response.StatusCode == HttpStatusCode.OK, agent.Id);
                var token = new JsonWebToken(JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("access_token").GetString());
                Assert.Equal("agent", token.GetPayloadValue<string>("cp_kind"));
                Assert.Equal(agent.Sponsor, token.GetPayloadValue<string>("cp_sponsor"));
                Assert.Equal(agent.Fleet, token.GetPayloadValue<string>("cp_fleet"));
            }

            eventsAfterFirstStart = await OutboxCountAsync(db);
            Assert.True(eventsAfterFirstStart >= seed.Humans!.Count + seed.Agents!.Count);
        }

        await using (var again = new ServiceHost<IdentityService>(settings))
        {
            _ = again.BaseAddress;
            Assert.Equal(eventsAfterFirstStart, await OutboxCountAsync(db));
        }
    }

    [Fact]
    public async Task The_demo_seed_names_the_principals_the_demo_needs()
    {
        var seed = await ReadSeedAsync();

        Assert.Contains(seed.Humans!, h => h.Id == "priya.prod-approver@example.com" && h.Bindings!.SequenceEqual(["approver@environment:production"]));
        Assert.Contains(seed.Humans!, h => h.Id == "sam.staging-approver@example.com" && h.Bindings!.SequenceEqual(["approver@environment:staging"]));
        Assert.Contains(seed.Agents!, a => a.Id == "remediation-agent" && a.Sponsor == "sre.lead@example.com" && a.Fleet == "remediation"
            && a.Environments!.SequenceEqual(["dev", "staging", "production"]) && a.Bindings!.SequenceEqual(["proposer"]));
        Assert.Contains(seed.Agents!, a => a.Id == "testing-agent" && a.Sponsor == "qa.lead@example.com" && a.Fleet == "testing");
        Assert.Contains(seed.Agents!, a => a.Id == "runner-testing-1" && a.Fleet == "testing" && a.Bindings!.SequenceEqual(["runner"]));
        Assert.Contains(seed.Agents!, a => a.Id == "runner-remediation-1" && a.Fleet == "remediation" && a.Bindings!.SequenceEqual(["runner"]));
    }
}

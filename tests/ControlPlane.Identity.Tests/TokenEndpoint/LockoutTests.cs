using System.Net;
using ControlPlane.Identity.Seeding;
using ControlPlane.Identity.Tests.Infrastructure;
using ControlPlane.Testing;

namespace ControlPlane.Identity.Tests.TokenEndpoint;

/// <summary>Three wrong secrets within a minute lock a client's secrets for 3 s.</summary>
public sealed class QuickLockout : PlaneFixture
{
    public const string Locked = "lock-target";
    public const string Forgiven = "forgiven-agent";

    protected override string Purpose => "lockout";

    protected override IdentitySeed Seed => IdentityPlane.DefaultSeed with
    {
        Agents = [.. IdentityPlane.DefaultSeed.Agents!,
            new SeedAgent(Locked, "Lock target", IdentityPlane.Sponsor, "testing", ["dev"], ["run-tests"], ["proposer"], null),
            new SeedAgent(Forgiven, "Forgiven", IdentityPlane.Sponsor, "testing", ["dev"], ["run-tests"], ["proposer"], null)],
    };

    protected override void Configure(PlaneSettings settings) => settings
        .Set("Identity:Lockout:MaxFailures", "3")
        .Set("Identity:Lockout:Window", "00:01:00")
        .Set("Identity:Lockout:Duration", "00:00:03");
}

public sealed class LockoutTests(QuickLockout fixture) : IClassFixture<QuickLockout>
{
    private static readonly Dictionary<string, string> Form = new() { ["grant_type"] = "client_credentials", ["audience"] = "policy" };
    private readonly IdentityPlane _plane = fixture.Plane;

    private async Task<HttpStatusCode> TryAsync(string client, string secret) => (await _plane.TokenRequestAsync(Form, client, secret)).Status;

    [Fact]
    public async Task Repeated_wrong_secrets_lock_the_client_even_against_the_right_secret_until_the_lock_ends_and_the_lock_is_recorded()
    {
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, await TryAsync(QuickLockout.Locked, "guess-" + i));
        }

        var (status, body, _) = await _plane.TokenRequestAsync(Form, QuickLockout.Locked, TestIdentity.AgentSecret);
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("invalid_client", body.GetProperty("error").GetString());

        var locked = Assert.Single(await _plane.OutboxAsync(), m => m.Type == "CredentialLocked");
        Assert.Equal(QuickLockout.Locked, locked.Body.GetProperty("principalId").GetString());
        Assert.Equal("client_secret", locked.Body.GetProperty("method").GetString());
        Assert.Equal(3, locked.Body.GetProperty("failures").GetInt32());
        Assert.True(locked.Body.GetProperty("until").GetDateTimeOffset() > locked.Body.GetProperty("at").GetDateTimeOffset());
        Assert.DoesNotContain(_plane.Logs.Lines, l => l.Contains("guess-", StringComparison.Ordinal) || l.Contains(TestIdentity.AgentSecret, StringComparison.Ordinal));

        // One attempt a second: the per-client rate limit (30 a minute) must not be what the test runs into.
        await Eventually.UntilAsync(async () =>
        {
            await Task.Delay(TimeSpan.FromSeconds(1));
            return await TryAsync(QuickLockout.Locked, TestIdentity.AgentSecret) == HttpStatusCode.OK;
        }, TimeSpan.FromSeconds(20), "the lock to end");
    }

    [Fact]
    public async Task A_success_forgets_earlier_failures()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, await TryAsync(QuickLockout.Forgiven, "typo-1"));
        Assert.Equal(HttpStatusCode.Unauthorized, await TryAsync(QuickLockout.Forgiven, "typo-2"));
        Assert.Equal(HttpStatusCode.OK, await TryAsync(QuickLockout.Forgiven, TestIdentity.AgentSecret));
        Assert.Equal(HttpStatusCode.Unauthorized, await TryAsync(QuickLockout.Forgiven, "typo-3"));
        Assert.Equal(HttpStatusCode.Unauthorized, await TryAsync(QuickLockout.Forgiven, "typo-4"));

        Assert.Equal(HttpStatusCode.OK, await TryAsync(QuickLockout.Forgiven, TestIdentity.AgentSecret));
    }
}

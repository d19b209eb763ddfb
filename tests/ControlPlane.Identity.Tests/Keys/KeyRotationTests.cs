using System.Net;
using ControlPlane.Identity.Tests.Infrastructure;
using ControlPlane.Testing;
using Microsoft.IdentityModel.JsonWebTokens;

namespace ControlPlane.Identity.Tests.Keys;

/// <summary>Five-second tokens and a one-second key cache, so a retired key's overlap ends within seconds.</summary>
public sealed class ShortLivedTokens : PlaneFixture
{
    protected override string Purpose => "rotation";

    protected override bool WithPolicy => true;

    protected override void Configure(PlaneSettings settings) => settings
        .Set("Identity:TokenLifetime", "00:00:05")
        .Set("Identity:SigningKeyCacheDuration", "00:00:01")
        .Set("Identity:KeyOverlapMargin", "00:00:01");
}

public sealed class KeyRotationTests(ShortLivedTokens fixture) : IClassFixture<ShortLivedTokens>
{
    private readonly IdentityPlane _plane = fixture.Plane;

    internal static async Task<IReadOnlyList<string>> JwksKidsAsync(IdentityPlane plane)
    {
        using var http = plane.IdentityAnonymous();
        var jwks = await IdentityPlane.ReadJsonAsync(await http.GetAsync(".well-known/jwks.json"));
        return jwks.GetProperty("keys").EnumerateArray().Select(k => k.GetProperty("kid").GetString()!).ToList();
    }

    [Fact]
    public async Task A_token_signed_before_rotation_still_validates_at_another_service_and_the_old_key_leaves_JWKS_after_the_overlap()
    {
        var before = await _plane.Identity.HumanTokenAsync(IdentityPlane.Viewer, "policy");
        var oldKid = new JsonWebToken(before).Kid;
        using (var policy = _plane.PolicyWith(before))
        {
            Assert.Equal(HttpStatusCode.OK, (await policy.GetAsync("openapi/v1.json")).StatusCode);
        }

        using var admin = await _plane.IdentityAsAsync(IdentityPlane.Admin);
        using var rotated = await admin.PostAsync("keys/rotate", null);
        var rotation = await IdentityPlane.ReadJsonAsync(rotated);
        Assert.Equal(HttpStatusCode.OK, rotated.StatusCode);
        Assert.Equal(oldKid, rotation.GetProperty("previousKid").GetString());
        var newKid = rotation.GetProperty("kid").GetString()!;
        Assert.NotEqual(oldKid, newKid);

        // A token of the new key makes policy refresh its JWKS; the old token must still pass after that refresh.
        var after = await _plane.Identity.HumanTokenAsync(IdentityPlane.Viewer, "policy");
        Assert.Equal(newKid, new JsonWebToken(after).Kid);
        using (var policy = _plane.PolicyWith(after))
        {
            Assert.Equal(HttpStatusCode.OK, (await policy.GetAsync("openapi/v1.json")).StatusCode);
        }

        using (var policy = _plane.PolicyWith(before))
        {
            Assert.Equal(HttpStatusCode.OK, (await policy.GetAsync("openapi/v1.json")).StatusCode);
        }

        Assert.Equal([newKid, oldKid], await JwksKidsAsync(_plane));
        var final = await Eventually.UntilAsync(() => JwksKidsAsync(_plane), kids => !kids.Contains(oldKid), TimeSpan.FromSeconds(20),
            "the retired key to leave JWKS once its last token expired (5 s lifetime + 2 s margin)");
        Assert.Equal([newKid], final);

        var outbox = await _plane.OutboxAsync();
        var rotatedEvent = Assert.Single(outbox, m => m.Type == "SigningKeyRotated" && m.Body.GetProperty("keyId").GetString() == newKid);
        Assert.Equal(IdentityPlane.Admin, rotatedEvent.Body.GetProperty("rotatedBy").GetString());
        Assert.Equal(oldKid, rotatedEvent.Body.GetProperty("previousKeyId").GetString());
        Assert.Contains(outbox, m => m.Type == "SigningKeyPublished" && m.Body.GetProperty("keyId").GetString() == newKid);
    }

    [Fact]
    public async Task Only_admins_rotate_keys()
    {
        using var fleetAdmin = await _plane.IdentityAsAsync(IdentityPlane.FleetAdmin);
        using var anonymous = _plane.IdentityAnonymous();

        Assert.Equal(HttpStatusCode.Forbidden, (await fleetAdmin.PostAsync("keys/rotate", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsync("keys/rotate", null)).StatusCode);
    }
}

/// <summary>Scheduled rotation every 4 s, the next key published 2 s ahead.</summary>
public sealed class FastRotation : PlaneFixture
{
    protected override string Purpose => "auto-rotation";

    protected override void Configure(PlaneSettings settings) => settings
        .Set("Identity:TokenLifetime", "00:00:05")
        .Set("Identity:SigningKeyCacheDuration", "00:00:01")
        .Set("Identity:KeyOverlapMargin", "00:00:01")
        .Set("Identity:KeyRotationInterval", "00:00:04")
        .Set("Identity:KeyPublishLead", "00:00:02")
        .Set("Identity:KeyRotationCheckInterval", "00:00:00.250");
}

public sealed class ScheduledRotationTests(FastRotation fixture) : IClassFixture<FastRotation>
{
    private readonly IdentityPlane _plane = fixture.Plane;

    [Fact]
    public async Task The_next_key_is_published_in_JWKS_before_it_signs_and_then_takes_over()
    {
        var firstKid = new JsonWebToken(await _plane.Identity.HumanTokenAsync(IdentityPlane.Viewer, "identity")).Kid;
        var seenInJwksWhileOldKeySigned = new HashSet<string>(StringComparer.Ordinal);

        var newKid = await Eventually.UntilAsync(async () =>
        {
            var jwks = await KeyRotationTests.JwksKidsAsync(_plane);
            var kid = new JsonWebToken(await _plane.Identity.HumanTokenAsync(IdentityPlane.Viewer, "identity")).Kid;
            if (kid == firstKid)
            {
                seenInJwksWhileOldKeySigned.UnionWith(jwks);
            }

            return kid;
        }, kid => kid != firstKid, TimeSpan.FromSeconds(30), "the scheduled rotation to switch the signing key");

        Assert.Contains(newKid, seenInJwksWhileOldKeySigned);
        var rotated = (await _plane.OutboxAsync()).First(m => m.Type == "SigningKeyRotated");
        Assert.Equal("system:key-rotation", rotated.Body.GetProperty("rotatedBy").GetString());
        Assert.Equal(firstKid, rotated.Body.GetProperty("previousKeyId").GetString());
    }
}

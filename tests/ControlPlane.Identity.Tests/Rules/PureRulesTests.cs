using ControlPlane.Contracts;
using ControlPlane.Identity.ExternalIdp;
using ControlPlane.Identity.Keys;
using ControlPlane.Identity.Principals;
using ControlPlane.Identity.Tokens;
using ControlPlane.ServiceDefaults.Security;
using ControlPlane.ServiceDefaults.Security.RateLimiting;
using Microsoft.Extensions.Configuration;

namespace ControlPlane.Identity.Tests.Rules;

public sealed class BindingDiffTests
{
    [Fact]
    public void Grants_what_is_wanted_and_missing_and_revokes_what_is_held_and_unwanted()
    {
        var diff = BindingDiff.Between(["viewer", "approver@environment:staging"], ["viewer", "approver@environment:production"]);

        Assert.Equal(["approver@environment:production"], diff.Grant);
        Assert.Equal(["approver@environment:staging"], diff.Revoke);
    }

    [Fact]
    public void The_same_set_is_no_change() => Assert.True(BindingDiff.Between(["a", "b"], ["b", "a", "a"]).IsEmpty);
}

public sealed class GroupBindingMapTests
{
    private static GroupBindingMap FromSettings(Dictionary<string, string?> values) =>
        GroupBindingMap.FromConfiguration(new ConfigurationBuilder().AddInMemoryCollection(values).Build().GetSection("Map"));

    [Fact]
    public void Groups_map_to_the_union_of_their_bindings_sorted_without_repeats()
    {
        var map = FromSettings(new()
        {
            ["Map:sre-approvers:0"] = "approver@environment:production",
            ["Map:sre-approvers:1"] = "viewer",
            ["Map:everyone"] = "viewer",
        });

        Assert.Equal(["approver@environment:production", "viewer"], map.Map(["everyone", "sre-approvers", "unknown-group"]));
    }

    [Fact]
    public void Group_names_match_exactly() =>
        Assert.Empty(FromSettings(new() { ["Map:Admins"] = "admin" }).Map(["admins"]));

    [Fact]
    public void A_bad_binding_fails_at_start_naming_the_group()
    {
        var error = Assert.Throws<InvalidOperationException>(() => FromSettings(new() { ["Map:ops"] = "superuser" }));

        Assert.Contains("GroupBindings:ops", error.Message, StringComparison.Ordinal);
    }
}

public sealed class KeyScheduleTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly TokenSettings Settings = TokenSettings.FromConfiguration(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
    {
        ["Identity:KeyRotationInterval"] = "30.00:00:00",
        ["Identity:KeyPublishLead"] = "00:15:00",
    }).Build());

    [Fact]
    public void Nothing_happens_long_before_the_rotation_is_due() =>
        Assert.Equal(KeyScheduleStep.Nothing, KeySchedule.Decide(T0, null, T0.AddDays(29), Settings));

    [Fact]
    public void The_next_key_is_published_a_lead_time_before_it_is_due() =>
        Assert.Equal(KeyScheduleStep.PublishNext, KeySchedule.Decide(T0, null, T0.AddDays(30).AddMinutes(-15), Settings));

    [Fact]
    public void The_published_key_takes_over_when_due() =>
        Assert.Equal(KeyScheduleStep.Promote, KeySchedule.Decide(T0, T0.AddDays(30).AddMinutes(-15), T0.AddDays(30), Settings));

    [Fact]
    public void A_key_published_late_waits_its_full_lead_so_every_validator_has_fetched_it()
    {
        var published = T0.AddDays(31);

        Assert.Equal(KeyScheduleStep.Nothing, KeySchedule.Decide(T0, published, published.AddMinutes(10), Settings));
        Assert.Equal(KeyScheduleStep.Promote, KeySchedule.Decide(T0, published, published.AddMinutes(15), Settings));
    }

    [Fact]
    public void Without_an_active_key_the_schedule_leaves_it_to_the_start() =>
        Assert.Equal(KeyScheduleStep.Nothing, KeySchedule.Decide(null, T0, T0.AddDays(60), Settings));
}

public sealed class TokenSettingsTests
{
    private static TokenSettings Read(Dictionary<string, string?> values) =>
        TokenSettings.FromConfiguration(new ConfigurationBuilder().AddInMemoryCollection(values).Build());

    [Fact]
    public void Defaults_are_ten_minute_tokens_and_thirty_day_keys()
    {
        var settings = Read([]);

        Assert.Equal(TimeSpan.FromMinutes(10), settings.Lifetime);
        Assert.Equal(TimeSpan.FromDays(30), settings.KeyRotationInterval);
        Assert.Equal(TimeSpan.FromMinutes(12), settings.RetiredKeyRetention);
    }

    [Fact]
    public void Day_long_tokens_are_refused() =>
        Assert.Throws<InvalidOperationException>(() => Read(new() { ["Identity:TokenLifetime"] = "1.00:00:00" }));

    [Fact]
    public void A_value_that_is_not_a_timespan_is_refused() =>
        Assert.Throws<InvalidOperationException>(() => Read(new() { ["Identity:KeyRotationInterval"] = "monthly" }));
}

public sealed class SecretHasherTests
{
    [Fact]
    public void A_secret_verifies_against_its_own_salted_hash_only()
    {
        var secret = SecretHasher.NewSecret();
        var (salt, hash) = SecretHasher.Hash(secret);
        var (otherSalt, otherHash) = SecretHasher.Hash(secret);

        Assert.True(SecretHasher.Verify(secret, salt, hash));
        Assert.False(SecretHasher.Verify(secret + "x", salt, hash));
        Assert.NotEqual(hash, otherHash);
        Assert.True(SecretHasher.Verify(secret, otherSalt, otherHash));
    }

    [Fact]
    public void New_secrets_carry_256_bits() =>
        Assert.Equal(32, Microsoft.IdentityModel.Tokens.Base64UrlEncoder.DecodeBytes(SecretHasher.NewSecret()).Length);
}

public sealed class RateLimitRuleTests
{
    [Fact]
    public void Rules_come_from_configuration_with_defaults()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["X:Limit"] = "7" }).Build();

        var rule = RateLimitRule.FromConfiguration(configuration, "X", "x", 30, TimeSpan.FromMinutes(1));

        Assert.Equal(7, rule.Limit);
        Assert.Equal(TimeSpan.FromMinutes(1), rule.Window);
    }

    [Fact]
    public void Long_partitions_are_hashed_into_the_key_and_short_ones_stay_readable()
    {
        var rule = new RateLimitRule("token-client", 5, TimeSpan.FromSeconds(10));

        Assert.Equal("ratelimit:token-client:client:agent-1", RedisRateLimiter.Key(rule, "client:agent-1"));
        Assert.StartsWith("ratelimit:token-client:sha256:", RedisRateLimiter.Key(rule, new string('a', 500)), StringComparison.Ordinal);
    }

    [Fact]
    public void Retry_after_is_whole_seconds_and_at_least_one() =>
        Assert.Equal(1, new RateLimitDecision(RateLimitOutcome.Limited, 0, TimeSpan.FromMilliseconds(20)).RetryAfterSeconds);

    [Fact]
    public void Keys_rotate_only_for_admins() =>
        Assert.Equal(["admin"], Roles.All.Where(r => Permissions.Grants(r, Permissions.KeysRotate)));
}

using System.Security.Cryptography;
using ControlPlane.Contracts;
using ControlPlane.Fleet.Runners;
using ControlPlane.ServiceDefaults.Security;

namespace ControlPlane.Fleet.Tests.Unit;

public sealed class RegistrationRulesTests
{
    private static Caller Runner(string id, string? fleet) => new(id, PrincipalKind.Agent, id, [new RoleBinding(Roles.Runner)], "sre@example.com", fleet);

    [Fact]
    public void Only_the_runner_itself_in_its_own_fleet_passes()
    {
        Assert.Null(RegistrationRules.CallerMismatch(Runner("runner-1", "testing"), "runner-1", "testing"));
        Assert.Equal("the token's subject 'runner-2' is not runner 'runner-1'", RegistrationRules.CallerMismatch(Runner("runner-2", "testing"), "runner-1", "testing"));
        Assert.Equal("the token is for fleet 'observe', not 'testing'", RegistrationRules.CallerMismatch(Runner("runner-1", "observe"), "runner-1", "testing"));
        Assert.StartsWith("the token carries no fleet", RegistrationRules.CallerMismatch(Runner("runner-1", null), "runner-1", "testing"), StringComparison.Ordinal);
    }

    [Fact]
    public void A_complete_registration_with_the_thumbprint_as_key_id_is_valid()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        var errors = RegistrationRules.Validate(
            new RunnerRegistration("runner-1", "testing", ["run-command", "http-check"], SigningKeyIds.ExportPublicKey(key), SigningKeyIds.Thumbprint(key)), out var parsed);

        Assert.Empty(errors);
        Assert.NotNull(parsed);
        parsed.Dispose();
    }

    [Fact]
    public void Each_bad_field_is_named()
    {
        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);

        var errors = RegistrationRules.Validate(new RunnerRegistration("runner 1", "", [], SigningKeyIds.ExportPublicKey(p384), "kid"), out var parsed);

        Assert.Null(parsed);
        Assert.Equal(["capabilities", "fleet", "publicKey", "runnerId"], errors.Keys.Order(StringComparer.Ordinal).ToArray());
    }

    [Fact]
    public void A_key_id_that_is_not_the_keys_thumbprint_is_refused()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        var errors = RegistrationRules.Validate(new RunnerRegistration("runner-1", "testing", ["run-command"], SigningKeyIds.ExportPublicKey(key), "chosen-by-me"), out _);

        Assert.Equal(["keyId"], errors.Keys.ToArray());
    }
}

public sealed class FleetCapabilitiesTests
{
    [Fact]
    public void A_fleets_capabilities_are_the_sorted_union_of_its_live_runners()
    {
        var capabilities = FleetCapabilities.Of("testing", [["run-command", "http-check"], ["run-command"], ["browser-check"]]);

        Assert.Equal(["browser-check", "http-check", "run-command"], capabilities.ActionKinds);
        Assert.Equal(3, capabilities.LiveRunners);
    }

    [Fact]
    public void A_change_is_a_different_union_or_a_different_number_of_live_runners()
    {
        var before = FleetCapabilities.Of("testing", [["run-command"]]);

        Assert.True(before.SameAs(FleetCapabilities.Of("testing", [["run-command"]])));
        Assert.False(before.SameAs(FleetCapabilities.Of("testing", [["run-command"], ["run-command"]])));
        Assert.False(before.SameAs(FleetCapabilities.Of("testing", [["http-check"]])));
        Assert.False(before.SameAs(FleetCapabilities.Of("testing", [])));
    }
}

public sealed class SigningKeyIdsTests
{
    [Fact]
    public void The_key_id_is_the_rfc7638_thumbprint_and_survives_an_spki_round_trip()
    {
        // RFC 7638 over {"crv","kty","x","y"} of a fixed P-256 key, computed independently of the code under test.
        using var key = ECDsa.Create(new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            D = Convert.FromHexString("C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721"),
            Q = new ECPoint
            {
                X = Convert.FromHexString("60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6"),
                Y = Convert.FromHexString("7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299"),
            },
        });
        var jwk = "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"YP7UuiVanTHJYet0xjVtaMBJuJI7Yfps5mliLmDyn7Y\",\"y\":\"eQP-EAi4vJmkGunpVii8ZPLxsgwtfp9Rd6PClNRGIpk\"}";
        var expected = Convert.ToBase64String(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(jwk))).TrimEnd('=').Replace('+', '-').Replace('/', '_');

        using var imported = SigningKeyIds.ImportPublicKey(SigningKeyIds.ExportPublicKey(key), out var failure);

        Assert.Equal(expected, SigningKeyIds.Thumbprint(key));
        Assert.Null(failure);
        Assert.Equal(expected, SigningKeyIds.Thumbprint(imported!));
    }

    [Theory]
    [InlineData("")]
    [InlineData("not base64!")]
    [InlineData("AAAA")]
    public void Anything_but_a_p256_spki_is_refused(string text)
    {
        Assert.Null(SigningKeyIds.ImportPublicKey(text, out var failure));
        Assert.NotNull(failure);
    }
}

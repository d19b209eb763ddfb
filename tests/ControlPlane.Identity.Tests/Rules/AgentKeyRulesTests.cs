using System.Security.Cryptography;
using ControlPlane.Identity.Keys;
using ControlPlane.Identity.Principals;
using Microsoft.IdentityModel.Tokens;

namespace ControlPlane.Identity.Tests.Rules;

public sealed class AgentKeyRulesTests
{
    private static AgentKeyRequest NewKey(out ECDsa key)
    {
        key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var p = key.ExportParameters(false);
        return new AgentKeyRequest("EC", "P-256", Base64UrlEncoder.Encode(p.Q.X), Base64UrlEncoder.Encode(p.Q.Y), null, null, null, null);
    }

    [Fact]
    public void A_public_P256_key_without_kid_gets_its_RFC7638_thumbprint_as_kid()
    {
        var request = NewKey(out var key);
        using (key)
        {
            var (parsed, errors) = AgentKeyRules.Parse(request);

            Assert.Empty(errors);
            Assert.Equal(PublicJwk.Thumbprint(key), parsed!.Kid);
        }
    }

    [Fact]
    public void A_key_with_its_private_part_is_refused_because_it_is_exposed()
    {
        var request = NewKey(out var key);
        using (key)
        {
            var (parsed, errors) = AgentKeyRules.Parse(request with { D = Base64UrlEncoder.Encode(key.ExportParameters(true).D) });

            Assert.Null(parsed);
            Assert.Contains("d", errors.Keys);
        }
    }

    [Fact]
    public void A_point_off_the_curve_is_refused()
    {
        var request = NewKey(out var key);
        using (key)
        {
            var y = Base64UrlEncoder.DecodeBytes(request.Y!);
            y[^1] ^= 0x01;

            var (parsed, errors) = AgentKeyRules.Parse(request with { Y = Base64UrlEncoder.Encode(y) });

            Assert.Null(parsed);
            Assert.Contains("jwk", errors.Keys);
        }
    }

    [Theory]
    [InlineData("RSA", "P-256", null, "kty")]
    [InlineData("EC", "P-384", null, "crv")]
    [InlineData("EC", "P-256", "HS256", "alg")]
    public void Only_ES256_keys_are_accepted(string kty, string crv, string? alg, string field)
    {
        var request = NewKey(out var key);
        using (key)
        {
            var (_, errors) = AgentKeyRules.Parse(request with { Kty = kty, Crv = crv, Alg = alg });

            Assert.Contains(field, errors.Keys);
        }
    }

    [Theory]
    [InlineData("has/slash")]
    [InlineData("has space")]
    [InlineData("")]
    public void A_kid_must_be_url_safe(string kid)
    {
        var request = NewKey(out var key);
        using (key)
        {
            Assert.Contains("kid", AgentKeyRules.Parse(request with { Kid = kid }).Errors.Keys);
        }
    }

    [Fact]
    public void The_stored_jwk_verifies_what_the_private_key_signed()
    {
        var request = NewKey(out var key);
        using (key)
        {
            var (parsed, _) = AgentKeyRules.Parse(request with { Kid = "k1" });
            var data = "payload"u8.ToArray();
            var signature = key.SignData(data, HashAlgorithmName.SHA256);

            var stored = AgentPublicKey.ToSecurityKey(parsed!.ToJwkJson());

            Assert.Equal("k1", stored.KeyId);
            Assert.True(stored.ECDsa.VerifyData(data, signature, HashAlgorithmName.SHA256));
        }
    }
}

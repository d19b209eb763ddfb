using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using ControlPlane.Contracts;
using ControlPlane.ServiceDefaults.Messaging;

namespace ControlPlane.ServiceDefaults.Tests.Unit;

public sealed class WireFormatTests
{
    [Theory]
    [InlineData("amqp://guest:guest@127.0.0.1:5672", "127.0.0.1", 5672, "/", "guest", "guest")]
    [InlineData("amqp://user:p%40ss@rabbit.internal:5673/cp-test", "rabbit.internal", 5673, "cp-test", "user", "p@ss")]
    [InlineData("amqp://rabbit", "rabbit", 5672, "/", "guest", "guest")]
    [InlineData("amqps://u:p@rabbit/%2F", "rabbit", 5671, "/", "u", "p")]
    public void Broker_addresses_parse_as_aspire_writes_them(string uri, string host, int port, string vhost, string user, string password) =>
        Assert.Equal(new BrokerAddress(host, (ushort)port, vhost, user, password), BrokerAddress.Parse(uri));

    [Theory]
    [InlineData("localhost:5672")]
    [InlineData("http://rabbit")]
    public void A_broker_address_that_is_not_amqp_is_refused_with_the_expected_shape(string uri)
    {
        var error = Assert.Throws<InvalidOperationException>(() => BrokerAddress.Parse(uri));
        Assert.Contains("amqp://", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Canonical_json_sorts_keys_drops_nulls_and_ignores_formatting()
    {
        var a = JsonNode.Parse("""{ "b": 1, "a": { "z": [3, {"y": null, "x": "é"}], "c": true } }""");
        var b = JsonNode.Parse("""{"a":{"c":true,"z":[3,{"x":"é"}]},"b":1}""");

        Assert.Equal("""{"a":{"c":true,"z":[3,{"x":"é"}]},"b":1}""", Encoding.UTF8.GetString(CanonicalJson.Serialize(a)));
        Assert.Equal(CanonicalJson.Serialize(a), CanonicalJson.Serialize(b));
    }

    [Fact]
    public void Content_hashes_change_with_content_and_use_kebab_case_enums()
    {
        var one = new ProposalStateChanged(Guid.Empty, ProposalState.Submitted, ProposalState.AwaitingApproval, "r", "a", 1, DateTimeOffset.UnixEpoch);
        var two = one with { Reason = "other" };

        Assert.StartsWith("sha256:", CanonicalJson.Hash(one), StringComparison.Ordinal);
        Assert.NotEqual(CanonicalJson.Hash(one), CanonicalJson.Hash(two));
        Assert.Contains("\"to\":\"awaiting-approval\"", CanonicalJson.ToText(one), StringComparison.Ordinal);
    }

    [Fact]
    public void Dsse_pre_authentication_encoding_matches_the_specification()
    {
        var pae = Dsse.PreAuthenticationEncoding("http://example.com/HelloWorld", "hello world"u8);
        Assert.Equal("DSSEv1 29 http://example.com/HelloWorld 11 hello world", Encoding.ASCII.GetString(pae));
    }

    [Fact]
    public void A_signed_envelope_verifies_and_any_change_to_type_payload_or_signature_is_caught()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var envelope = Dsse.Sign(new { hello = "world" }, "application/vnd.test+json", key, "k1");
        ECDsa? Keys(string id) => id == "k1" ? key : null;

        Assert.NotNull(Dsse.Verify(envelope, "application/vnd.test+json", Keys, out var ok));
        Assert.Null(ok);

        Assert.Null(Dsse.Verify(envelope, "application/vnd.other+json", Keys, out var wrongType));
        Assert.Contains("payload type", wrongType, StringComparison.Ordinal);

        var otherPayload = envelope with { Payload = Convert.ToBase64String("""{"hello":"mars"}"""u8.ToArray()) };
        Assert.Null(Dsse.Verify(otherPayload, "application/vnd.test+json", Keys, out var tampered));
        Assert.Contains("does not verify", tampered, StringComparison.Ordinal);

        var unknownKey = envelope with { Signatures = [envelope.Signatures[0] with { KeyId = "k2" }] };
        Assert.Null(Dsse.Verify(unknownKey, "application/vnd.test+json", Keys, out var unknown));
        Assert.Contains("unknown key 'k2'", unknown, StringComparison.Ordinal);

        Assert.Null(Dsse.Verify(envelope with { Signatures = [] }, "application/vnd.test+json", Keys, out var unsigned));
        Assert.Equal("envelope has no signature", unsigned);
    }
}

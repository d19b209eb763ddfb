using ControlPlane.Contracts;
using ControlPlane.Orchestrator.AgentNotifications;

namespace ControlPlane.Orchestrator.Tests.AgentNotifications;

public sealed class WebhookSignatureTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);
    private static readonly TimeSpan Tolerance = TimeSpan.FromMinutes(5);

    [Fact]
    public void The_signature_is_the_base64_hmac_sha256_of_id_timestamp_and_body_under_the_secret_key()
    {
        // Computed independently: printf 'msg_1.1800000000.{"a":1}' | openssl dgst -sha256 -mac HMAC -macopt hexkey:000102…1f | -binary | base64
        var key = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();

        var signature = WebhookSignature.Sign(key, "msg_1", 1_800_000_000, """{"a":1}""");

        Assert.Equal(ExpectedFromOpenSsl, signature);
    }

    // The value openssl printed for the input above (see the comment in the test).
    private const string ExpectedFromOpenSsl = "v1,phm7mOHwFDU6jBwBkmhF3Cqd0H0Nz7MaiOdih/irqbk=";

    [Fact]
    public void A_new_secret_is_whsec_and_32_random_bytes_and_never_repeats()
    {
        var first = WebhookSignature.NewSecret();
        var second = WebhookSignature.NewSecret();

        Assert.StartsWith("whsec_", first, StringComparison.Ordinal);
        Assert.Equal(32, WebhookSignature.KeyOf(first).Length);
        Assert.NotEqual(first, second);
    }

    [Fact]
    public void A_delivery_signed_with_the_secret_verifies()
    {
        var key = WebhookSignature.KeyOf(WebhookSignature.NewSecret());
        var signature = WebhookSignature.Sign(key, "msg_a", Now.ToUnixTimeSeconds(), "{}");

        Assert.True(WebhookSignature.Verify(key, "msg_a", Now.ToUnixTimeSeconds().ToString(), "{}", signature, Now, Tolerance));
        // Several signatures (during a rotation) are separated by spaces; one matching is enough.
        Assert.True(WebhookSignature.Verify(key, "msg_a", Now.ToUnixTimeSeconds().ToString(), "{}", "v1,bm90IGl0 " + signature, Now, Tolerance));
    }

    [Theory]
    [InlineData("msg_b", "{}", 0)]          // another id
    [InlineData("msg_a", "{ }", 0)]         // another body
    [InlineData("msg_a", "{}", 301)]        // older than the replay window
    [InlineData("msg_a", "{}", -301)]       // from the future beyond the window
    public void A_changed_or_stale_delivery_does_not_verify(string id, string body, int skewSeconds)
    {
        var key = WebhookSignature.KeyOf(WebhookSignature.NewSecret());
        var signedAt = Now.ToUnixTimeSeconds();
        var signature = WebhookSignature.Sign(key, "msg_a", signedAt, "{}");

        Assert.False(WebhookSignature.Verify(key, id, signedAt.ToString(), body, signature, Now.AddSeconds(skewSeconds), Tolerance));
    }

    [Fact]
    public void Another_secret_does_not_verify()
    {
        var key = WebhookSignature.KeyOf(WebhookSignature.NewSecret());
        var other = WebhookSignature.KeyOf(WebhookSignature.NewSecret());
        var signature = WebhookSignature.Sign(key, "msg_a", Now.ToUnixTimeSeconds(), "{}");

        Assert.False(WebhookSignature.Verify(other, "msg_a", Now.ToUnixTimeSeconds().ToString(), "{}", signature, Now, Tolerance));
        Assert.False(WebhookSignature.Verify(key, "msg_a", "not-a-number", "{}", signature, Now, Tolerance));
    }
}

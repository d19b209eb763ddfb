using System.Text;
using ControlPlane.SystemGraph.Deployments;

namespace ControlPlane.SystemGraph.Tests.Deployments;

public sealed class DeliverySignatureTests
{
    private static readonly byte[] Body = Encoding.UTF8.GetBytes("""{"app":"billing"}""");
    private static readonly DateTimeOffset Now = new(2026, 12, 4, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(5);

    [Fact]
    public void The_GitHub_signature_matches_the_example_in_GitHubs_documentation()
    {
        // docs.github.com "Validating webhook deliveries": this secret and payload give exactly this header value.
        var body = Encoding.UTF8.GetBytes("Hello, World!");
        const string Expected = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

        Assert.Equal(Expected, DeliverySignature.GitHub("It's a Secret to Everybody", body));
        Assert.Equal(SignatureFailure.None, DeliverySignature.VerifyGitHub("It's a Secret to Everybody", body, Expected));
    }

    [Theory]
    [InlineData(null, SignatureFailure.Missing)]
    [InlineData("", SignatureFailure.Missing)]
    [InlineData("sha1=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17", SignatureFailure.Malformed)]
    [InlineData("sha256=zz7107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17", SignatureFailure.Malformed)]
    [InlineData("sha256=757107ea", SignatureFailure.Malformed)]
    [InlineData("sha256=857107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17", SignatureFailure.Mismatch)]
    public void A_GitHub_signature_that_is_absent_malformed_or_wrong_is_refused(string? header, SignatureFailure expected) =>
        Assert.Equal(expected, DeliverySignature.VerifyGitHub("It's a Secret to Everybody", Encoding.UTF8.GetBytes("Hello, World!"), header));

    [Fact]
    public void A_GitHub_signature_over_another_body_does_not_verify()
    {
        var header = DeliverySignature.GitHub("s3cret", Body);

        Assert.Equal(SignatureFailure.Mismatch, DeliverySignature.VerifyGitHub("s3cret", Encoding.UTF8.GetBytes("""{"app":"ledger"}"""), header));
        Assert.Equal(SignatureFailure.Mismatch, DeliverySignature.VerifyGitHub("other", Body, header));
    }

    [Fact]
    public void The_plane_signature_is_an_HMAC_of_the_timestamp_and_the_body_that_openssl_can_make()
    {
        // printf '%s' '1796385600.{"app":"billing"}' | openssl dgst -sha256 -hmac s3cret
        var header = DeliverySignature.Plane("s3cret", Now, Body);

        Assert.Equal("t=1796385600,v1=" + Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData(
            Encoding.UTF8.GetBytes("s3cret"), Encoding.UTF8.GetBytes("1796385600." + """{"app":"billing"}"""))), header);
        Assert.Equal(SignatureFailure.None, DeliverySignature.VerifyPlane("s3cret", Body, header, Now, Window));
    }

    [Theory]
    [InlineData(-301, SignatureFailure.Stale)]
    [InlineData(301, SignatureFailure.Stale)]
    [InlineData(-299, SignatureFailure.None)]
    [InlineData(299, SignatureFailure.None)]
    public void A_plane_signature_counts_only_inside_the_replay_window(int secondsFromNow, SignatureFailure expected)
    {
        var header = DeliverySignature.Plane("s3cret", Now.AddSeconds(secondsFromNow), Body);

        Assert.Equal(expected, DeliverySignature.VerifyPlane("s3cret", Body, header, Now, Window));
    }

    [Theory]
    [InlineData(null, SignatureFailure.Missing)]
    [InlineData("v1=00", SignatureFailure.Malformed)]
    [InlineData("t=abc,v1=5c4b8a9e7f1d2c3b4a5968778695a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7", SignatureFailure.Malformed)]
    [InlineData("t=1796385600,v1=5c4b8a9e7f1d2c3b4a5968778695a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7", SignatureFailure.Mismatch)]
    public void A_plane_signature_that_is_absent_malformed_or_wrong_is_refused(string? header, SignatureFailure expected) =>
        Assert.Equal(expected, DeliverySignature.VerifyPlane("s3cret", Body, header, Now, Window));

    [Fact]
    public void A_plane_signature_with_its_timestamp_changed_does_not_verify()
    {
        var header = DeliverySignature.Plane("s3cret", Now.AddHours(-1), Body);
        var moved = "t=" + Now.ToUnixTimeSeconds() + header[header.IndexOf(',', StringComparison.Ordinal)..];

        Assert.Equal(SignatureFailure.Mismatch, DeliverySignature.VerifyPlane("s3cret", Body, moved, Now, Window));
    }
}

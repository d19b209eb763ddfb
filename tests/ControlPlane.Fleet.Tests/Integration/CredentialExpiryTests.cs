using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using ControlPlane.Contracts;
using ControlPlane.Fleet.Tests.Support;

namespace ControlPlane.Fleet.Tests.Integration;

/// <summary>
/// Package credentials whose package never reports: the sweep revokes them at the package's expiry. And a runner that
/// registered no agreement key gets its package without a credential, saying why.
/// </summary>
public sealed class CredentialExpiryTests(FleetPlane plane) : IClassFixture<FleetPlane>
{
    [Fact]
    public async Task An_expired_packages_credential_is_revoked_by_the_sweep()
    {
        await using var runner = await FakeRunner.StartAsync(plane, "runner-t8", "testing", "credential-expiry");
        using var agreement = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        using (var registered = await runner.RegisterAsync(runner.Registration with { AgreementKey = Convert.ToBase64String(agreement.ExportSubjectPublicKeyInfo()) }))
        {
            Assert.Equal(HttpStatusCode.OK, registered.StatusCode);
        }

        var request = WorkRequests.New("testing", "credential-expiry", timeout: TimeSpan.FromSeconds(4), targets: ["billing"]);
        await plane.Bus.PublishAsync(request);
        var issued = await plane.Bus.WaitForAsync<WorkPackageIssued>(i => i.WorkId == request.WorkId, "WorkPackageIssued");
        var package = WorkRequests.Read<WorkPackage>(issued.Envelope);
        var token = CredentialSeal.Open(package.Credential?.Sealed, agreement, package.WorkId, runner.Id, out var failure);
        Assert.True(token is not null, failure);
        var whileOpen = await IntrospectAsync(token);

        var revoked = await plane.Bus.WaitForAsync<WorkCredentialRevoked>(r => r.WorkId == request.WorkId, "WorkCredentialRevoked at expiry");
        var afterExpiry = await IntrospectAsync(token);

        Assert.True(whileOpen.Active);
        Assert.Equal("package timed-out", revoked.Reason);
        Assert.True(revoked.At >= package.ExpiresAt, $"revoked at {revoked.At:O}, before the expiry {package.ExpiresAt:O}");
        Assert.Equal(package.Credential!.Jti, revoked.Grant.Jti);
        Assert.False(afterExpiry.Active);
        Assert.Contains(plane.Bus.All<WorkCompleted>(), c => c.WorkId == request.WorkId && c.Outcome == WorkOutcome.TimedOut);
    }

    [Fact]
    public async Task A_runner_without_an_agreement_key_gets_no_credential_and_the_package_says_why()
    {
        await using var runner = await FakeRunner.StartAsync(plane, "runner-o3", "observe", "credential-none");
        var request = WorkRequests.New("observe", "credential-none", targets: ["billing"]);

        await plane.Bus.PublishAsync(request);
        var issued = await plane.Bus.WaitForAsync<WorkPackageIssued>(i => i.WorkId == request.WorkId, "WorkPackageIssued");
        var package = WorkRequests.Read<WorkPackage>(issued.Envelope);

        Assert.Null(package.Credential!.Sealed);
        Assert.Null(package.Credential.Jti);
        Assert.Equal("runner runner-o3 registered no agreement key to seal a credential to", package.Credential.Withheld);
        Assert.DoesNotContain(plane.Bus.All<WorkCredentialMinted>(), m => m.WorkId == request.WorkId);
    }

    private async Task<CredentialIntrospection> IntrospectAsync(string token)
    {
        using var client = await plane.TargetClientAsync("billing");
        using var response = await client.PostAsync("fleet/credentials/introspect", new FormUrlEncodedContent(new Dictionary<string, string> { ["token"] = token }));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<CredentialIntrospection>(ContractJson.Options))!;
    }
}

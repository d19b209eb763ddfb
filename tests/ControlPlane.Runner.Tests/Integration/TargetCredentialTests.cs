using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using ControlPlane.Contracts;
using ControlPlane.Fleet.Tests.Support;
using ControlPlane.Runner.Actions;
using ControlPlane.Runner.FleetLink;
using ControlPlane.Testing;

namespace ControlPlane.Runner.Tests.Integration;

/// <summary>
/// Least privilege per package, end to end: fleet mints a credential for the package's targets, seals it to the
/// real runner's agreement key inside the signed package; the command sees it only in its environment; the target
/// system (billing) finds it active at introspection while the command runs, another target (ledger) never does,
/// and once the result is in it is revoked. Mint and revoke are published as evidence.
/// </summary>
public sealed class TargetCredentialTests(RunnerPlane plane) : IClassFixture<RunnerPlane>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task The_command_holds_a_credential_for_billing_only_while_its_package_is_open()
    {
        var request = WorkRequests.New("testing", "run-command", new Dictionary<string, string> { ["command"] = "credential" }, targets: ["billing"]);

        await plane.Bus.PublishAsync(request);
        var issued = await plane.Bus.WaitForAsync<WorkPackageIssued>(i => i.WorkId == request.WorkId, "WorkPackageIssued", Wait);
        var package = WorkRequests.Read<WorkPackage>(issued.Envelope);
        var token = OpenAsRunner(package);
        var digestFile = Path.Combine(plane.Workspace, $"credential-{request.WorkId}.sha256");
        await Eventually.UntilAsync(() => Task.FromResult(File.Exists(digestFile) && File.ReadAllText(digestFile).Trim().Length == 64),
            Wait, "the command to record the digest of its credential");

        var commandSaw = File.ReadAllText(digestFile).Trim();
        // While the command waits for its release the package is open: billing finds the credential active. Polled, since
        // the target system's own sign-in and bindings settle asynchronously in a freshly started plane.
        var duringRun = await Eventually.UntilAsync(() => IntrospectAsync("billing", token), r => r.Active, Wait,
            "billing's introspection to find the credential active while the command runs");
        var otherTarget = await IntrospectAsync("ledger", token);
        File.WriteAllText(Path.Combine(plane.Workspace, $"release-{request.WorkId}"), "go");
        var completed = await plane.Bus.WaitForAsync<WorkCompleted>(c => c.WorkId == request.WorkId, "WorkCompleted", Wait);
        var revoked = await plane.Bus.WaitForAsync<WorkCredentialRevoked>(r => r.Grant.Jti == package.Credential!.Jti, "WorkCredentialRevoked", Wait);
        var afterResult = await IntrospectAsync("billing", token);
        var minted = Assert.Single(plane.Bus.All<WorkCredentialMinted>(), m => m.WorkId == request.WorkId);
        var result = WorkRequests.Read<WorkResult>(completed.SignedResult!);

        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token))), commandSaw);
        Assert.True(duringRun.Active);
        Assert.Equal(["billing"], duringRun.Aud);
        Assert.Equal(("staging", "run-command", request.WorkId, package.ExpiresAt.ToUnixTimeSeconds()),
            (duringRun.Env, duringRun.Action, duringRun.Package, duringRun.Exp));
        Assert.False(otherTarget.Active);
        Assert.Null(otherTarget.Aud);
        Assert.Equal(WorkOutcome.Succeeded, result.Outcome);
        Assert.Contains("credential: " + OutputCapture.Redacted, result.OutputExcerpt, StringComparison.Ordinal);
        Assert.DoesNotContain(token, result.OutputExcerpt, StringComparison.Ordinal);
        Assert.DoesNotContain(token.Split('.')[2], issued.Envelope.Payload, StringComparison.Ordinal);
        Assert.False(afterResult.Active);
        Assert.Equal("package completed", revoked.Reason);
        Assert.Equal(["billing"], minted.Grant.Audience);
        Assert.Equal((RunnerPlane.RunnerId, "staging", "run-command", package.ExpiresAt),
            (minted.Grant.RunnerId, minted.Grant.Environment, minted.Grant.Action, minted.Grant.ExpiresAt));
        Assert.Equal((minted.Grant.Jti, RunnerPlane.RunnerId, request.ProposalId), (revoked.Grant.Jti, revoked.Grant.RunnerId, revoked.ProposalId));
    }

    [Fact]
    public async Task Introspection_is_for_target_systems_only_and_a_forged_token_is_inactive()
    {
        using var viewer = await plane.ClientForAsync(FleetPlane.Viewer);
        using var asViewer = await viewer.PostAsync("fleet/credentials/introspect", Form("anything"));
        using var anonymous = plane.Fleet.CreateHttpClient();
        using var unauthenticated = await anonymous.PostAsync("fleet/credentials/introspect", Form("anything"));
        using var billing = await plane.TargetClientAsync("billing");
        using var json = await billing.PostAsJsonAsync("fleet/credentials/introspect", new { token = "x" });

        using var forger = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var forged = Fleet.Credentials.CredentialTokens.Create(new Fleet.Signing.FleetKey("forged", forger),
            Fleet.Work.WorkPackages.Create(WorkRequests.New("testing", "run-command"), RunnerPlane.RunnerId, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(1), "n"), "jti-forged");

        Assert.Equal(HttpStatusCode.Forbidden, asViewer.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, unauthenticated.StatusCode);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, json.StatusCode);
        Assert.False((await IntrospectAsync("billing", forged)).Active);
        Assert.False((await IntrospectAsync("billing", "not-a-token")).Active);
    }

    private string OpenAsRunner(WorkPackage package)
    {
        Assert.NotNull(package.Credential?.Sealed);
        Assert.Null(package.Credential.Withheld);
        // The test reads the runner's agreement key from its state directory, only to learn the token the command got.
        using var key = RunnerAgreementKey.LoadOrCreate(plane.StateDirectory);
        var (token, refusal) = key.Open(package, RunnerPlane.RunnerId);
        Assert.True(token is not null, refusal);
        return token;
    }

    private async Task<CredentialIntrospection> IntrospectAsync(string node, string token)
    {
        using var client = await plane.TargetClientAsync(node);
        using var response = await client.PostAsync("fleet/credentials/introspect", Form(token));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<CredentialIntrospection>(ContractJson.Options))!;
    }

    private static FormUrlEncodedContent Form(string token) => new(new Dictionary<string, string> { ["token"] = token });
}

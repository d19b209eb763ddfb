using System.Net;
using ControlPlane.Contracts;
using ControlPlane.ServiceDefaults.Health;
using ControlPlane.ServiceDefaults.Security;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace ControlPlane.Evidence.Tests.Service;

/// <summary>Who may read what, with real tokens from the real identity service.</summary>
public sealed class EvidenceAccessTests(EvidenceFixture fixture) : IClassFixture<EvidenceFixture>
{
    private static readonly string[] Protected = ["evidence/proposals/{0}", "evidence/proposals/{0}/bundle", "evidence/records", "evidence/chain/verify"];

    [Fact]
    public async Task Without_a_token_every_endpoint_but_the_keys_answers_401()
    {
        var proposalId = await ProductionProposalAsync();
        using var anonymous = await fixture.ClientAsync(null);

        await AssertEveryProtectedEndpointAsync(anonymous, proposalId, HttpStatusCode.Unauthorized);
        using var keys = await anonymous.GetAsync("evidence/keys");
        Assert.Equal(HttpStatusCode.OK, keys.StatusCode);
    }

    [Fact]
    public async Task A_principal_without_evidence_permissions_gets_403_everywhere()
    {
        var proposalId = await ProductionProposalAsync();
        using var nobody = await fixture.ClientAsync(EvidenceFixture.Nobody);

        await AssertEveryProtectedEndpointAsync(nobody, proposalId, HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Viewers_read_evidence_but_only_auditors_recompute_the_chain()
    {
        var proposalId = await ProductionProposalAsync();
        using var viewer = await fixture.ClientAsync(EvidenceFixture.Viewer);
        using var auditor = await fixture.ClientAsync(EvidenceFixture.Auditor);

        Assert.Equal(HttpStatusCode.OK, (await viewer.GetAsync($"evidence/proposals/{proposalId}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await viewer.GetAsync($"evidence/proposals/{proposalId}/bundle")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await viewer.GetAsync("evidence/records")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.GetAsync("evidence/chain/verify")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await auditor.GetAsync("evidence/chain/verify")).StatusCode);
    }

    [Fact]
    public async Task An_approver_reads_the_evidence_of_their_environment_only()
    {
        var proposalId = await ProductionProposalAsync();
        using var production = await fixture.ClientAsync(EvidenceFixture.ProductionApprover);
        using var staging = await fixture.ClientAsync(EvidenceFixture.StagingApprover);

        Assert.Equal(HttpStatusCode.OK, (await production.GetAsync($"evidence/proposals/{proposalId}/bundle")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await staging.GetAsync($"evidence/proposals/{proposalId}/bundle")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await staging.GetAsync($"evidence/proposals/{proposalId}")).StatusCode);
        // The whole log is not scoped to an environment: a scoped binding cannot list it.
        Assert.Equal(HttpStatusCode.Forbidden, (await production.GetAsync("evidence/records")).StatusCode);
    }

    [Fact]
    public void Every_endpoint_declares_its_rule()
    {
        var endpoints = fixture.Evidence.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith("/evidence", StringComparison.Ordinal) == true || e.RoutePattern.RawText == "/metrics/autonomy")
            .ToList();

        Assert.Equal(12, endpoints.Count);
        Assert.All(endpoints, e => Assert.True(
            e.Metadata.GetMetadata<RequiresPermission>() is not null || e.Metadata.GetMetadata<AnonymousByDesign>() is not null,
            $"{e.RoutePattern.RawText} declares no permission"));
        Assert.Equal(Permissions.EvidenceExport, endpoints.Single(e => e.RoutePattern.RawText == "/evidence/chain/verify").Metadata.GetMetadata<RequiresPermission>()!.Permission);
        Assert.Equal(Permissions.EvidenceExport, endpoints.Single(e => e.RoutePattern.RawText == "/evidence/checkpoints").Metadata.GetMetadata<RequiresPermission>()!.Permission);
        Assert.Equal(Permissions.EvidenceRead, endpoints.Single(e => e.RoutePattern.RawText == "/metrics/autonomy").Metadata.GetMetadata<RequiresPermission>()!.Permission);
        Assert.Equal(Permissions.EvidenceRead, endpoints.Single(e => e.RoutePattern.RawText == "/evidence/verification").Metadata.GetMetadata<RequiresPermission>()!.Permission);
    }

    private static async Task AssertEveryProtectedEndpointAsync(HttpClient client, Guid proposalId, HttpStatusCode expected)
    {
        foreach (var path in Protected)
        {
            using var response = await client.GetAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, path, proposalId));
            Assert.True(response.StatusCode == expected, $"{path}: {response.StatusCode}, expected {expected}");
        }
    }

    private async Task<Guid> ProductionProposalAsync()
    {
        var proposalId = Guid.NewGuid();
        await fixture.Publisher.PublishAsync(new ProposalSubmitted(proposalId, "sha256:" + new string('e', 64), "remediation-agent", "sam@example.com", "remediation",
            new ProposedAction("restart", "Restart billing", new Dictionary<string, string>()), ["billing"], "production",
            new ChangeReference("sha256:" + new string('f', 64), "git@example.com:billing.git#1", null), DateTimeOffset.UtcNow));
        await fixture.WaitForRecordsAsync(proposalId, 1);
        return proposalId;
    }
}

using System.Net.Http.Headers;
using System.Text;
using ControlPlane.Contracts;
using ControlPlane.Identity.Seeding;
using ControlPlane.SystemGraph.Deployments;
using ControlPlane.Testing;

namespace ControlPlane.SystemGraph.Tests.Deployments;

/// <summary>system-graph with the demo graph and both webhook secrets, and a test bus recording drift and impact.</summary>
public sealed class DeploymentFixture : IAsyncLifetime
{
    public const string GitHubSecret = "github-webhook-secret-for-tests";
    public const string ArgoCdSecret = "argocd-webhook-secret-for-tests";
    public const string Viewer = "vera@example.com";

    public ServiceUnderTest<SystemGraphService> Plane { get; private set; } = null!;

    public async ValueTask InitializeAsync() =>
        Plane = await ServiceUnderTest<SystemGraphService>.StartAsync("system-graph", "graph-db",
            new IdentitySeed([new SeedHuman(Viewer, "Vera Viewer", Viewer, ["viewer"])], []),
            o => o.Observe<DeploymentDriftDetected>().Observe<ImpactAssessed>(),
            settings => settings.Set("SystemGraph:SeedFile", "Seed/demo-graph.json")
                .Set("Deployments:GitHub:Secret", GitHubSecret)
                .Set("Deployments:GitHub:Workflows:Deploy production", "production")
                .Set("Deployments:GitHub:Repositories:acme/ledger-service", "ledger-db")
                .Set("Deployments:ArgoCd:Secret", ArgoCdSecret)
                .Set("Deployments:Environments:prod", "production"));

    /// <summary>A delivery as GitHub sends it: the raw body, X-Hub-Signature-256 over it, the event and a delivery id.</summary>
    public static HttpRequestMessage GitHubDelivery(string eventName, string body, string delivery, string? secret = GitHubSecret, string? signature = null)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        var request = new HttpRequestMessage(HttpMethod.Post, "graph/deployments/github") { Content = new ByteArrayContent(bytes) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Add("X-GitHub-Event", eventName);
        request.Headers.Add("X-GitHub-Delivery", delivery);
        request.Headers.UserAgent.ParseAdd("GitHub-Hookshot/044aadd");
        if ((signature ?? (secret is null ? null : DeliverySignature.GitHub(secret, bytes))) is { } header)
        {
            request.Headers.Add(DeliverySignature.GitHubHeader, header);
        }

        return request;
    }

    /// <summary>An Argo CD notification signed the plane's way (timestamp and body), at <paramref name="signedAt"/>.</summary>
    public static HttpRequestMessage ArgoCdDelivery(string body, string delivery, DateTimeOffset signedAt, string secret = ArgoCdSecret)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        var request = new HttpRequestMessage(HttpMethod.Post, "graph/deployments/argocd") { Content = new ByteArrayContent(bytes) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Add(DeliverySignature.PlaneHeader, DeliverySignature.Plane(secret, signedAt, bytes));
        request.Headers.Add(DeploymentsApi.DeliveryHeader, delivery);
        return request;
    }

    public async ValueTask DisposeAsync() => await Plane.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class DeploymentCollection : ICollectionFixture<DeploymentFixture>
{
    public const string Name = "system-graph deployments on real servers";
}

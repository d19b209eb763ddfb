using System.Text.Json;
using System.Text.Json.Nodes;
using ControlPlane.Cli.Commands;
using ControlPlane.Contracts;
using ControlPlane.SystemGraph.Graph;
using static ControlPlane.SystemGraph.Tests.Graph.GraphBuilder;

namespace ControlPlane.SystemGraph.Tests.Graph;

/// <summary>The CLI's lines for the reachable part of an impact, from the JSON system-graph sends.</summary>
public sealed class ImpactReachabilityViewTests
{
    private static JsonObject Json(ImpactReport report) => JsonNode.Parse(JsonSerializer.Serialize(report, ContractJson.Options))!.AsObject();

    [Fact]
    public void Billing_shows_each_reachable_node_with_its_path_and_counts_the_rest()
    {
        var lines = ImpactReachabilityView.Lines(Json(ImpactReachability.Assess(Demo(), ["billing"], DateTimeOffset.UnixEpoch)));

        Assert.Equal(
        [
            "billing: via gateway → checkout → billing",
            "checkout: via gateway → checkout",
            "gateway: via gateway",
            "web-app: via gateway → web-app",
            "2 of 6 affected nodes not reachable from outside",
        ], lines);
    }

    [Fact]
    public void An_unreachable_job_and_a_report_without_reachability_say_so()
    {
        Assert.Equal(["none of the 1 affected nodes is reachable from outside"],
            ImpactReachabilityView.Lines(Json(ImpactReachability.Assess(Demo(), ["ledger-reconciliation"], DateTimeOffset.UnixEpoch))));
        Assert.Equal(["reachability unknown (assessed without it): counted as reachable"],
            ImpactReachabilityView.Lines(Json(ImpactAnalyzer.Assess(Demo(), ["billing"], DateTimeOffset.UnixEpoch))));
    }
}

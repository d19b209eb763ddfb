using System.Text.Json;
using System.Text.Json.Nodes;
using ControlPlane.Cli.Commands;
using ControlPlane.Contracts;
using ControlPlane.Cli.Tests.Evidence;

namespace ControlPlane.Cli.Tests.Proposals;

/// <summary>`controlplane proposals show` prints the reachable subset, the validation plan and the gate's verdict.</summary>
public sealed class PlanViewTests
{
    [Fact]
    public void Show_prints_the_reachable_path_the_plan_with_its_reasons_and_each_suites_result()
    {
        var plan = new ValidationPlan(12,
            [
                new PlannedSuite("billing-api", "testing", "billing", "invoice API", 40, ["billing is a target"], true, 0),
                new PlannedSuite("ledger-contract", "testing", "ledger", "ledger contract", 60, ["ledger depends on billing (data-write)", "ledger holds regulated data"], true, 1),
                new PlannedSuite("reports-smoke", "testing", "reports", "reports", 20, ["reports is a dependent at depth 2"], false, 0),
            ],
            [new PlannedSuite("leak-resolved", "observe", "billing", "memory leak gone", 30, ["billing: verify suite"], true, 0)]);
        var decision = new PolicyDecision(DecisionOutcome.RequireApproval, ["regulated"], ["prod"], "sha256:bundle", "v1", null, [], [], DateTimeOffset.UnixEpoch, plan);
        SuiteVerdict[] suites =
        [
            new("billing-api", false, 0, 1, SuiteResults.Passed, "testing-1", "sha256:aa", null),
            new("ledger-contract", false, 1, 2, SuiteResults.RetriedThenPassed, "testing-1", "sha256:bb", null),
            new("reports-smoke", true, 0, 1, SuiteResults.AdvisoryFailed, "testing-2", "sha256:cc", "exit code 1"),
        ];
        var proposal = new JsonObject
        {
            ["decision"] = JsonSerializer.SerializeToNode(decision, ContractJson.Options),
            ["planHash"] = CanonicalJson.Hash(plan),
            ["reachability"] = JsonNode.Parse("""
                {"rank":"reachable-critical","known":true,"reason":"reachable from outside and critical or regulated: ledger",
                 "nodes":[{"nodeId":"ledger","criticalityTier":0,"dataClasses":["regulated"],"path":["edge-gateway","billing","ledger"]}]}
                """),
            ["gates"] = new JsonArray(new JsonObject
            {
                ["step"] = "validate",
                ["state"] = "open",
                ["suites"] = JsonSerializer.SerializeToNode(suites, ContractJson.Options),
            }),
        };
        var (console, writer) = CliRun.Capture();

        PlanView.Print(proposal, console);

        var lines = writer.ToString().Split('\n');
        Assert.Contains(lines, l => l.Contains("reachable reachable-critical", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("ledger tier 0, edge-gateway -> billing -> ledger", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains($"validation plan (graph v12, {CanonicalJson.Hash(plan)})", StringComparison.Ordinal));
        Assert.Contains(lines, l => Row(l, "validate", "ledger-contract", "ledger", "testing", "required", "1", "ledger depends on billing (data-write); ledger holds regulated data"));
        Assert.Contains(lines, l => Row(l, "validate", "reports-smoke", "reports", "advisory"));
        Assert.Contains(lines, l => Row(l, "verify", "leak-resolved", "billing", "observe", "required"));
        Assert.Contains(lines, l => l.Contains("validate gate: open", StringComparison.Ordinal));
        Assert.Contains(lines, l => Row(l, "ledger-contract", "retried-then-passed", "2", "required", "testing-1", "sha256:bb"));
        Assert.Contains(lines, l => Row(l, "reports-smoke", "advisory-failed", "1", "advisory", "testing-2", "sha256:cc", "exit code 1"));
    }

    /// <summary>A table row holding these cells in this order.</summary>
    private static bool Row(string line, params string[] cells)
    {
        var at = 0;
        foreach (var cell in cells)
        {
            at = line.IndexOf(cell, at, StringComparison.Ordinal);
            if (at < 0)
            {
                return false;
            }

            at += cell.Length;
        }

        return true;
    }
}

using System.Diagnostics;

namespace ControlPlane.AppHost.Tests;

/// <summary>
/// The README's billing walk-through against the plane the AppHost runs, played by the real `controlplane` CLI as
/// a user would: the agent proposes, the production approver authorizes, the runners validate, execute and verify,
/// and the evidence bundle verifies offline.
/// </summary>
[Collection(RunningPlaneCollection.Name)]
public sealed class BillingWalkThroughTests(RunningPlane plane)
{
    [Fact]
    public async Task The_billing_change_is_proposed_approved_executed_and_its_bundle_verifies()
    {
        var bundle = Path.Combine(Path.GetTempPath(), $"cpt-billing-{Guid.NewGuid():N}.json");
        try
        {
            var demo = await ControlPlaneCliAsync("demo", "billing", "--out", bundle);
            Assert.True(demo.ExitCode == 0, $"demo billing exited {demo.ExitCode}:\n{demo.Output}\nresources: {await plane.StatesAsync()}");
            Assert.Contains("completed", demo.Output, StringComparison.Ordinal);

            // The bundle it wrote verifies again from the file alone, as an auditor would check it, and its checkpoint
            // carries the cosignature of the witness the AppHost runs (which pinned evidence's key on first use).
            using var http = new HttpClient();
            var witnessKey = (await http.GetStringAsync(new Uri(RunningPlane.Address("witness"), "key"), TestContext.Current.CancellationToken)).Trim();
            var verify = await ControlPlaneCliAsync("evidence", "verify", bundle, "--witness", witnessKey, "--witnesses-required", "1");
            Assert.True(verify.ExitCode == 0, $"evidence verify exited {verify.ExitCode}:\n{verify.Output}");
            Assert.Contains("Bundle verifies.", verify.Output, StringComparison.Ordinal);
            Assert.StartsWith("witness.controlplane.local/w1+", witnessKey, StringComparison.Ordinal);

            // What an SRE sees in the dashboard: the agent's POST is one trace through every service that handled
            // the proposal, the runners included.
            string[] expected = ["orchestrator", "system-graph", "policy", "fleet", "evidence", "runner-testing-1", "runner-remediation-1"];
            IReadOnlyList<DashboardTrace> traces = [];
            DashboardTrace? proposal = null;
            var deadline = DateTime.UtcNow.AddSeconds(60);
            do
            {
                traces = await DashboardTrace.ReadAsync(RunningPlane.Dashboard, "policy", TestContext.Current.CancellationToken);
                proposal = traces.FirstOrDefault(t => t.Spans.Any(s => s.Resource == "orchestrator" && s.Name.StartsWith("POST /proposals", StringComparison.Ordinal)));
                if (proposal is not null && proposal.Resources.IsSupersetOf(expected))
                {
                    break;
                }

                await Task.Delay(2000, TestContext.Current.CancellationToken);
            }
            while (DateTime.UtcNow < deadline);

            Assert.True(proposal is not null && proposal.Resources.IsSupersetOf(expected),
                $"No trace from the agent's POST /proposals spans [{string.Join(", ", expected)}].\nTraces:\n" +
                string.Join("\n", traces.OrderByDescending(t => t.Spans.Count).Take(30).Select(t => t + " " + string.Join(" | ", t.Spans.Select(s => s.Resource + ":" + s.Name).Distinct().Take(25)))));
        }
        finally
        {
            File.Delete(bundle);
        }
    }

    private static async Task<(int ExitCode, string Output)> ControlPlaneCliAsync(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "controlplane.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var service in new[] { "identity", "system-graph", "policy", "orchestrator", "fleet", "evidence" })
        {
            start.Environment[$"services__{service}__http__0"] = RunningPlane.Address(service).ToString();
        }

        start.Environment["COLUMNS"] = "200";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }
}

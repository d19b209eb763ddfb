using System.CommandLine;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace ControlPlane.Cli.Commands;

/// <summary>
/// `controlplane demo billing` and `controlplane demo dev`: the two walk-throughs of the README, played against a
/// running plane (./run.sh) with the demo identities. Every state change prints as it happens.
/// </summary>
public static class DemoCommand
{
    // The demo seed's agent secret (src/ControlPlane.Identity/Seed/demo-identity.json); accepted only in Development.
    private const string DemoAgentSecret = "demo-secret-remediation-agent-development-only";

    public static Command Create()
    {
        var demo = new Command("demo", "Play the README walk-throughs against a running plane (./run.sh).");
        demo.Subcommands.Add(Billing());
        demo.Subcommands.Add(Dev());
        return demo;
    }

    private static Command Billing()
    {
        var approver = new Option<string>("--approver") { Description = "The production approver who authorizes", DefaultValueFactory = _ => "priya.prod-approver@example.com" };
        var auditor = new Option<string>("--auditor") { Description = "Who downloads the evidence bundle", DefaultValueFactory = _ => "aud.auditor@example.com" };
        var output = new Option<string?>("--out") { Description = "Where to write the evidence bundle (default: ./evidence-<id>.json)" };
        var command = new Command("billing", "An agent's fix for a memory leak in billing: impact, policy, a named approver, validation, execution, verification, evidence.");
        command.Options.Add(approver);
        command.Options.Add(auditor);
        command.Options.Add(output);
        command.SetAction((result, ct) => CommandRunner.RunAsync(async () =>
        {
            using var agent = new PlaneClient(new Credentials(null, "remediation-agent", DemoAgentSecret, null));
            Step("remediation-agent proposes a fix for the invoice-cache memory leak in billing (production)");
            var submitted = await agent.PostAsync("orchestrator", "proposals", new
            {
                idempotencyKey = $"billing-leak-{Guid.NewGuid():N}",
                action = new { kind = "deploy", summary = "Fix the invoice cache memory leak in billing (heap grows 40 MiB/h)", parameters = new Dictionary<string, string>() },
                targets = new[] { "billing" },
                environment = "production",
                change = new { digest = "sha256:9c1185a5c5e9fc54612808977ee8f548b2258d31ddadbb2f6a1f5b8c2a0e3f41", reference = "git@example.com:acme/billing.git#4f2c9e1", rollbackPlan = "Redeploy the previous billing image" },
            }, ct);
            var id = submitted["id"]!.ToString();
            AnsiConsole.MarkupLine($"  proposal [bold]{id}[/]");

            var waiting = await ProposalView.FollowAsync(agent, id, p => ProposalView.State(p) == "awaiting-approval", TimeSpan.FromMinutes(2), ct);
            if (ProposalView.State(waiting) != "awaiting-approval")
            {
                throw new PlaneException($"expected the billing fix to wait for a human; it is '{ProposalView.State(waiting)}'.");
            }

            Step("the graph and the policy say why a human must look");
            ProposalView.Print(waiting);

            Step($"{result.GetValue(approver)} authorizes it");
            using var human = new PlaneClient(new Credentials(result.GetValue(approver), null, null, null));
            await human.PostAsync("orchestrator", $"proposals/{id}/approvals", new
            {
                decision = "approve",
                comment = "Heap graphs confirm the leak; fix reviewed.",
                proposalHash = waiting["contentHash"]?.ToString(),
            }, ct);

            var seen = waiting["history"]?.AsArray().Count ?? 0;
            var final = await ProposalView.FollowAsync(agent, id, _ => false, TimeSpan.FromMinutes(10), ct, seen);
            PrintWork(final);
            if (ProposalView.State(final) != "completed")
            {
                throw new PlaneException($"the billing fix ended '{ProposalView.State(final)}'.");
            }

            Step("evidence: the whole chain as one bundle, verified offline");
            using var audit = new PlaneClient(new Credentials(result.GetValue(auditor), null, null, null));
            var path = Path.GetFullPath(result.GetValue(output) ?? $"evidence-{id}.json");
            var bundle = await WaitForBundleAsync(audit, id, ct);
            await File.WriteAllTextAsync(path, bundle, ct);
            var verified = EvidenceVerifyCommand.Run(System.Text.Encoding.UTF8.GetBytes(bundle), null, AnsiConsole.Console);
            AnsiConsole.MarkupLine($"  bundle written to [bold]{Markup.Escape(path)}[/]; check it again any time with: controlplane evidence verify {Markup.Escape(path)}");
            return verified;
        }));
        return command;
    }

    private static Command Dev()
    {
        var command = new Command("dev", "A low-risk dev action that runs fully unattended: no human, validated by policy, executed by a runner.");
        command.SetAction((_, ct) => CommandRunner.RunAsync(async () =>
        {
            using var agent = new PlaneClient(new Credentials(null, "remediation-agent", DemoAgentSecret, null));
            Step("remediation-agent restarts search in dev");
            var submitted = await agent.PostAsync("orchestrator", "proposals", new
            {
                idempotencyKey = $"dev-restart-{Guid.NewGuid():N}",
                action = new { kind = "restart", summary = "Restart search to pick up the new synonyms file", parameters = new Dictionary<string, string>() },
                targets = new[] { "search" },
                environment = "dev",
                change = new { digest = "sha256:0f3a9d2c", reference = "config/search/synonyms.txt@7d1e", rollbackPlan = "restart again with the previous file" },
            }, ct);
            var id = submitted["id"]!.ToString();
            AnsiConsole.MarkupLine($"  proposal [bold]{id}[/]");
            var final = await ProposalView.FollowAsync(agent, id, _ => false, TimeSpan.FromMinutes(5), ct);
            PrintWork(final);
            var approvals = final["approvals"]?.AsArray().Count ?? 0;
            AnsiConsole.MarkupLine(ProposalView.State(final) == "completed" && approvals == 0
                ? $"  [green]completed with no human in the loop[/] (policy rules: {Markup.Escape(string.Join(", ", final["decision"]?["rulesFired"]?.AsArray().Select(r => r!.ToString()) ?? []))})"
                : $"  [red]ended {Markup.Escape(ProposalView.State(final))}[/]");
            return ProposalView.State(final) == "completed" ? 0 : 1;
        }));
        return command;
    }

    private static void Step(string text) => AnsiConsole.MarkupLine($"\n[bold blue]»[/] {Markup.Escape(text)}");

    private static void PrintWork(JsonNode proposal)
    {
        foreach (var work in proposal["work"]?.AsArray() ?? [])
        {
            AnsiConsole.MarkupLine($"  [grey]{Markup.Escape(work!["step"]?.ToString() ?? "")}[/] {Markup.Escape(work["name"]?.ToString() ?? "")} on {Markup.Escape(work["fleet"]?.ToString() ?? "")} by {Markup.Escape(work["runnerId"]?.ToString() ?? "-")}: {Markup.Escape(work["outcome"]?.ToString() ?? work["status"]?.ToString() ?? "")}");
        }
    }

    /// <summary>The bundle once evidence has recorded the final state (events arrive a moment after the state changes).</summary>
    private static async Task<string> WaitForBundleAsync(PlaneClient client, string id, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            var bundle = await client.GetTextAsync("evidence", $"evidence/proposals/{id}/bundle", ct);
            var completedRecorded = JsonNode.Parse(bundle)?["records"]?.AsArray()
                .Any(r => r?["kind"]?.ToString() == "ProposalStateChanged" && r["payload"]?["to"]?.ToString() == "completed") == true;
            if (completedRecorded || attempt >= 20)
            {
                return bundle;
            }

            await Task.Delay(500, ct);
        }
    }
}

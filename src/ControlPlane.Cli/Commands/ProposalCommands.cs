using System.CommandLine;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace ControlPlane.Cli.Commands;

/// <summary>propose, proposals get|list, approve, reject, cancel, watch.</summary>
public static class ProposalCommands
{
    public static IEnumerable<Command> Create()
    {
        yield return Propose();
        yield return Proposals();
        yield return Decide("approve", "approve", "Approve a proposal awaiting approval, as a human approver.");
        yield return Decide("reject", "reject", "Reject a proposal awaiting approval, as a human approver (one rejection ends it).");
        yield return Cancel();
        yield return Watch();
    }

    private static Command Propose()
    {
        var common = new CommonOptions();
        var kind = new Option<string>("--kind") { Description = "Action kind, e.g. restart, deploy, rollback", Required = true };
        var summary = new Option<string>("--summary") { Description = "One line for the humans who review it", Required = true };
        var targets = new Option<string[]>("--target") { Description = "System-graph node id (repeat for several)", Required = true, AllowMultipleArgumentsPerToken = true };
        var environment = new Option<string>("--env") { Description = "dev, staging or production", Required = true };
        var digest = new Option<string>("--digest") { Description = "Digest of the change", DefaultValueFactory = _ => "sha256:" + new string('0', 64) };
        var reference = new Option<string>("--reference") { Description = "Where the change is (commit, PR, image)", DefaultValueFactory = _ => "n/a" };
        var rollback = new Option<string?>("--rollback") { Description = "How to undo it" };
        var parameters = new Option<string[]>("--param") { Description = "Action parameter key=value (repeat)", AllowMultipleArgumentsPerToken = true };
        var key = new Option<string?>("--idempotency-key") { Description = "Same key and body twice is one proposal (default: a new key)" };
        var watch = new Option<bool>("--watch") { Description = "Follow its states until it ends or waits for a human" };

        var command = new Command("propose", "Submit a proposal as an agent.");
        common.AddTo(command);
        foreach (var option in new Option[] { kind, summary, targets, environment, digest, reference, rollback, parameters, key, watch })
        {
            command.Options.Add(option);
        }

        command.SetAction((result, ct) => CommandRunner.RunAsync(async () =>
        {
            using var client = common.Client(result);
            var body = new
            {
                idempotencyKey = result.GetValue(key) ?? Guid.NewGuid().ToString("N"),
                action = new { kind = result.GetValue(kind), summary = result.GetValue(summary), parameters = ParseParameters(result.GetValue(parameters)) },
                targets = result.GetValue(targets),
                environment = result.GetValue(environment),
                change = new { digest = result.GetValue(digest), reference = result.GetValue(reference), rollbackPlan = result.GetValue(rollback) },
            };
            var answer = await client.PostAsync("orchestrator", "proposals", body, ct);
            var id = answer["id"]!.ToString();
            AnsiConsole.MarkupLine($"proposal [bold]{id}[/] {answer["state"]}");
            if (result.GetValue(watch))
            {
                var final = await ProposalView.FollowAsync(client, id, p => ProposalView.State(p) == "awaiting-approval", TimeSpan.FromMinutes(10), ct);
                ProposalView.Print(final);
            }

            return 0;
        }));
        return command;
    }

    private static Command Proposals()
    {
        var command = new Command("proposals", "Read proposals.");

        var common = new CommonOptions();
        var id = new Argument<string>("id") { Description = "Proposal id" };
        var get = new Command("get", "Show one proposal: state, impact and its reachable subset, decision, validation plan and verdict, approvals, history.");
        get.Aliases.Add("show");
        common.AddTo(get);
        get.Arguments.Add(id);
        get.SetAction((result, ct) => CommandRunner.RunAsync(async () =>
        {
            using var client = common.Client(result);
            var proposal = await client.GetAsync("orchestrator", $"proposals/{result.GetValue(id)}", ct);
            if (result.GetValue(common.Json))
            {
                Console.WriteLine(proposal.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
                return 0;
            }

            ProposalView.Print(proposal);
            PlanView.Print(proposal);
            ProposalView.PrintHistory(proposal, 0);
            return 0;
        }));
        command.Subcommands.Add(get);

        var listCommon = new CommonOptions();
        var state = new Option<string?>("--state") { Description = "Only this state, e.g. awaiting-approval" };
        var list = new Command("list", "List proposals you may see.");
        listCommon.AddTo(list);
        list.Options.Add(state);
        list.SetAction((result, ct) => CommandRunner.RunAsync(async () =>
        {
            using var client = listCommon.Client(result);
            var query = result.GetValue(state) is { } s ? $"?state={Uri.EscapeDataString(s)}" : "";
            var answer = await client.GetAsync("orchestrator", "proposals" + query, ct);
            var items = answer as JsonArray ?? answer["items"]?.AsArray() ?? [];
            var table = new Table().AddColumns("id", "state", "agent", "action", "targets", "environment", "reachable");
            foreach (var p in items)
            {
                table.AddRow(Markup.Escape(p!["id"]?.ToString() ?? ""), Markup.Escape(ProposalView.State(p)), Markup.Escape(p["agentId"]?.ToString() ?? ""),
                    Markup.Escape(p["actionKind"]?.ToString() ?? ""), Markup.Escape(string.Join(",", p["targets"]?.AsArray().Select(t => t!.ToString()) ?? [])),
                    Markup.Escape(p["environment"]?.ToString() ?? ""), Markup.Escape(p["reachability"]?.ToString() ?? ""));
            }

            AnsiConsole.Write(table);
            return 0;
        }));
        command.Subcommands.Add(list);
        return command;
    }

    private static Command Decide(string name, string decision, string description)
    {
        var common = new CommonOptions();
        var id = new Argument<string>("id") { Description = "Proposal id" };
        var comment = new Option<string?>("--comment") { Description = "Why (recorded in evidence)" };
        var command = new Command(name, description);
        common.AddTo(command);
        command.Arguments.Add(id);
        command.Options.Add(comment);
        command.SetAction((result, ct) => CommandRunner.RunAsync(async () =>
        {
            using var client = common.Client(result);
            var proposalId = result.GetValue(id)!;
            var answer = await client.PostAsync("orchestrator", $"proposals/{proposalId}/approvals", new { decision, comment = result.GetValue(comment) }, ct);
            AnsiConsole.MarkupLine($"{decision} recorded for [bold]{proposalId}[/] by {Markup.Escape(client.Credentials.Describe())}; state {Markup.Escape(answer["state"]?.ToString() ?? "?")}");
            return 0;
        }));
        return command;
    }

    private static Command Cancel()
    {
        var common = new CommonOptions();
        var id = new Argument<string>("id") { Description = "Proposal id" };
        var command = new Command("cancel", "Cancel a proposal (the proposing agent or an operator).");
        common.AddTo(command);
        command.Arguments.Add(id);
        command.SetAction((result, ct) => CommandRunner.RunAsync(async () =>
        {
            using var client = common.Client(result);
            var answer = await client.PostAsync("orchestrator", $"proposals/{result.GetValue(id)}/cancel", new { }, ct);
            AnsiConsole.MarkupLine($"state {Markup.Escape(answer["state"]?.ToString() ?? "?")}");
            return 0;
        }));
        return command;
    }

    private static Command Watch()
    {
        var common = new CommonOptions();
        var id = new Argument<string>("id") { Description = "Proposal id" };
        var command = new Command("watch", "Print each state change of a proposal until it ends.");
        common.AddTo(command);
        command.Arguments.Add(id);
        command.SetAction((result, ct) => CommandRunner.RunAsync(async () =>
        {
            using var client = common.Client(result);
            var final = await ProposalView.FollowAsync(client, result.GetValue(id)!, _ => false, TimeSpan.FromHours(1), ct);
            return ProposalView.State(final) == "completed" ? 0 : 2;
        }));
        return command;
    }

    private static Dictionary<string, string> ParseParameters(string[]? pairs)
    {
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in pairs ?? [])
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new PlaneException($"--param '{pair}' is not key=value.");
            }

            parameters[pair[..eq]] = pair[(eq + 1)..];
        }

        return parameters;
    }
}

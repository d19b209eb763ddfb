using System.Text.Json.Nodes;
using Spectre.Console;

namespace ControlPlane.Cli.Commands;

/// <summary>
/// The parts of a proposal that say what is tested and what is at stake: the reachable subset of the impact, the
/// change-aware validation plan, and the gate's verdict per suite.
/// </summary>
public static class PlanView
{
    public static void Print(JsonNode p, IAnsiConsole? console = null)
    {
        ArgumentNullException.ThrowIfNull(p);
        console ??= AnsiConsole.Console;
        PrintReachability(p, console);
        PrintPlan(p, console);
        PrintGates(p, console);
    }

    private static void PrintReachability(JsonNode p, IAnsiConsole console)
    {
        if (p["reachability"] is not JsonObject reachability)
        {
            return;
        }

        console.MarkupLine($"[grey]reachable[/] {Markup.Escape(Text(reachability["rank"]))} [grey]({Markup.Escape(Text(reachability["reason"]))})[/]");
        foreach (var node in reachability["nodes"]?.AsArray() ?? [])
        {
            var path = node!["path"] is JsonArray steps ? string.Join(" -> ", steps.Select(s => s!.ToString())) : "path unknown";
            console.MarkupLine($"  {Markup.Escape(Text(node["nodeId"]))} [grey]tier {Markup.Escape(Text(node["criticalityTier"]))}, {Markup.Escape(path)}[/]");
        }
    }

    private static void PrintPlan(JsonNode p, IAnsiConsole console)
    {
        if (p["decision"]?["plan"] is not JsonObject plan)
        {
            return;
        }

        var table = new Table().Title($"validation plan (graph v{Text(plan["graphVersion"])}, {Text(p["planHash"])})")
            .AddColumns("stage", "suite", "node", "fleet", "required", "retries", "reasons");
        var suites = (plan["suites"]?.AsArray() ?? []).Select(s => ("validate", s!))
            .Concat((plan["verifications"]?.AsArray() ?? []).Select(s => ("verify", s!)));
        foreach (var (stage, s) in suites)
        {
            table.AddRow(stage, Markup.Escape(Text(s["suite"])), Markup.Escape(Text(s["nodeId"])), Markup.Escape(Text(s["fleet"])),
                s["required"]?.GetValue<bool>() == true ? "required" : "advisory", Text(s["retries"]),
                Markup.Escape(string.Join("; ", s["reasons"]?.AsArray().Select(r => r!.ToString()) ?? [])));
        }

        console.Write(table);
    }

    private static void PrintGates(JsonNode p, IAnsiConsole console)
    {
        foreach (var gate in p["gates"]?.AsArray() ?? [])
        {
            var table = new Table().Title($"{Text(gate!["step"])} gate: {Text(gate["state"])}")
                .AddColumns("suite", "result", "attempts", "required", "runner", "result digest", "reason");
            foreach (var s in gate["suites"]?.AsArray() ?? [])
            {
                var result = Text(s!["result"]);
                var colour = result switch
                {
                    "passed" or "retried-then-passed" => "green",
                    "failed" => "red",
                    "advisory-failed" or "retrying" => "yellow",
                    _ => "blue",
                };
                table.AddRow(Markup.Escape(Text(s["name"])), $"[{colour}]{Markup.Escape(result)}[/]", Text(s["attempts"]),
                    s["advisory"]?.GetValue<bool>() == true ? "advisory" : "required", Markup.Escape(Text(s["runnerId"])),
                    Markup.Escape(Text(s["resultDigest"])), Markup.Escape(Text(s["reason"])));
            }

            console.Write(table);
        }
    }

    private static string Text(JsonNode? node) => node?.ToString() ?? "-";
}

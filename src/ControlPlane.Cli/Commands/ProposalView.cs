using System.Text.Json.Nodes;
using ControlPlane.Contracts;
using Spectre.Console;

namespace ControlPlane.Cli.Commands;

/// <summary>How a proposal (GET /proposals/{id}) is shown to a person.</summary>
public static class ProposalView
{
    public static readonly HashSet<string> TerminalStates = new(StringComparer.Ordinal)
    {
        "completed", "denied", "rejected", "expired", "failed", "cancelled",
    };

    public static string State(JsonNode proposal) => proposal["state"]?.GetValue<string>() ?? "unknown";

    public static void Print(JsonNode p)
    {
        var grid = new Grid().AddColumn().AddColumn();
        void Row(string label, string? value) => grid.AddRow($"[grey]{label}[/]", Markup.Escape(value ?? "-"));
        Row("id", p["id"]?.ToString());
        Row("state", State(p));
        Row("agent", p["agentId"]?.ToString());
        Row("action", $"{p["action"]?["kind"]}: {p["action"]?["summary"]}");
        Row("targets", string.Join(", ", p["targets"]?.AsArray().Select(t => t!.ToString()) ?? []));
        Row("environment", p["environment"]?.ToString());
        if (p["impact"] is JsonObject impact)
        {
            Row("impact", $"graph v{impact["graphVersion"]}, {impact["dependents"]?.AsArray().Count ?? 0} dependents, highest tier {impact["highestCriticality"]?.ToString() ?? "-"}, revenue path {impact["revenuePath"]}, data {string.Join("/", impact["dataClasses"]?.AsArray().Select(d => d!.ToString()) ?? [])}");
            foreach (var line in ImpactReachabilityView.Lines(impact))
            {
                Row("  reachable", line);
            }
        }

        if (p["decision"] is JsonObject decision)
        {
            Row("decision", $"{decision["outcome"]} (rules {string.Join(", ", decision["rulesFired"]?.AsArray().Select(r => r!.ToString()) ?? [])}; bundle {decision["bundleHash"]})");
            foreach (var reason in decision["reasons"]?.AsArray() ?? [])
            {
                Row("  because", reason!.ToString());
            }
        }

        foreach (var approval in p["approvals"]?.AsArray() ?? [])
        {
            Row("approval", $"{approval!["decision"]} by {approval["approverId"]} at {approval["at"]}: {approval["comment"]}");
        }

        AnsiConsole.Write(grid);
    }

    /// <summary>Prints the history entries past <paramref name="seen"/>; returns how many there are now.</summary>
    public static int PrintHistory(JsonNode proposal, int seen)
    {
        var history = proposal["history"]?.AsArray() ?? [];
        for (var i = seen; i < history.Count; i++)
        {
            var entry = history[i]!;
            var at = DateTimeOffset.TryParse(entry["at"]?.ToString(), System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var when)
                ? when.ToLocalTime().ToString("HH:mm:ss.fff", System.Globalization.CultureInfo.InvariantCulture)
                : "";
            var to = entry["to"]?.ToString() ?? entry["state"]?.ToString() ?? "?";
            var colour = to switch
            {
                "completed" or "authorized" => "green",
                "denied" or "rejected" or "expired" or "failed" or "cancelled" => "red",
                "awaiting-approval" => "yellow",
                _ => "blue",
            };
            AnsiConsole.MarkupLine($"  [grey]{at}[/] [{colour}]{Markup.Escape(to)}[/] [grey]{Markup.Escape(entry["reason"]?.ToString() ?? "")}[/]");
        }

        return history.Count;
    }

    /// <summary>Polls the proposal and prints each state change until <paramref name="until"/> holds or it ends.</summary>
    public static async Task<JsonNode> FollowAsync(PlaneClient client, string id, Func<JsonNode, bool> until, TimeSpan timeout, CancellationToken ct, int seen = 0)
    {
        var deadline = DateTimeOffset.UtcNow + timeout;
        while (true)
        {
            var proposal = await client.GetAsync("orchestrator", $"proposals/{id}", ct);
            seen = PrintHistory(proposal, seen);
            if (until(proposal) || TerminalStates.Contains(State(proposal)))
            {
                return proposal;
            }

            if (DateTimeOffset.UtcNow > deadline)
            {
                throw new PlaneException($"proposal {id} is still '{State(proposal)}' after {timeout.TotalSeconds:0} s.");
            }

            await Task.Delay(300, ct);
        }
    }

    public static string Kebab(ProposalState state) => System.Text.Json.JsonNamingPolicy.KebabCaseLower.ConvertName(state.ToString());
}

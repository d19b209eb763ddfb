using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using ControlPlane.Policy.Bundles;
using Spectre.Console;

namespace ControlPlane.Cli.Commands;

/// <summary>
/// `controlplane policy simulate &lt;file-or-hash&gt; [--last N | --since 24h|&lt;time&gt; [--until &lt;time&gt;]] [--environment] [--agent]`:
/// uploads the bundle when a file is given (without activating it), replays the recorded decisions against it, and
/// prints every decision that would change, the counts by environment and agent, and the simulation id that
/// activation may ask for. Viewing the report here marks the simulation viewed. Exit 0, or 1 when the plane refuses.
/// </summary>
public static class PolicySimulateCommand
{
    public static Command Create(IAnsiConsole console)
    {
        var common = new CommonOptions();
        var bundle = new Argument<string>("file-or-hash") { Description = "A bundle's YAML file (uploaded with activate=false first), or the sha256: hash of a stored bundle." };
        var last = new Option<int?>("--last") { Description = "Replay the last N decided proposals (default 100 when no --since)." };
        var since = new Option<string?>("--since") { Description = "Replay decisions since a time (2026-12-04T10:00:00Z) or for a duration back from now (24h, 7d)." };
        var until = new Option<string?>("--until") { Description = "With --since: decisions before this time." };
        var environment = new Option<string?>("--environment") { Description = "Only proposals in this environment." };
        var agent = new Option<string?>("--by-agent") { Description = "Only proposals of this agent." };
        var command = new Command("simulate", "Replay recorded decisions against a bundle and show every decision it would change.")
        {
            bundle, last, since, until, environment, agent,
        };
        common.AddTo(command);
        command.SetAction(async (result, ct) =>
        {
            if (!TryWindow(result.GetValue(last), result.GetValue(since), result.GetValue(until), out var window, out var error))
            {
                console.MarkupLineInterpolated($"[red]{error}[/]");
                return 1;
            }

            using var client = common.Client(result);
            try
            {
                var hash = await HashOfAsync(client, console, result.GetValue(bundle)!, ct);
                var body = new Dictionary<string, object?>(window) { ["environment"] = result.GetValue(environment), ["agent"] = result.GetValue(agent) };
                var created = await client.PostAsync("policy", $"policies/{Uri.EscapeDataString(hash)}/simulate", body.Where(p => p.Value is not null).ToDictionary(), ct);
                var id = created["id"]!.GetValue<string>();
                var simulation = await client.GetAsync("policy", $"policies/simulations/{id}", ct);
                if (result.GetValue(common.Json))
                {
                    console.WriteLine(simulation.ToJsonString());
                    return 0;
                }

                Print(console, simulation);
                return 0;
            }
            catch (Exception ex) when (ex is PlaneException or HttpRequestException or IOException)
            {
                console.MarkupLineInterpolated($"[red]{ex.Message}[/]");
                return 1;
            }
        });
        return command;
    }

    /// <summary>The body's window: {last} or {from, to?}; --since takes a duration (24h, 7d) or an ISO-8601 time.</summary>
    public static bool TryWindow(int? last, string? since, string? until, out Dictionary<string, object?> window, out string? error)
    {
        window = [];
        error = null;
        if (last is not null && since is not null)
        {
            error = "Give --last or --since, not both.";
            return false;
        }

        if (until is not null && since is null)
        {
            error = "--until needs --since.";
            return false;
        }

        if (since is null)
        {
            window["last"] = last ?? 100;
            return true;
        }

        if (Time(since) is not { } from)
        {
            error = $"--since '{since}' is neither a duration (24h, 7d, 1h30m) nor a time such as 2026-12-04T10:00:00Z.";
            return false;
        }

        window["from"] = from;
        if (until is not null)
        {
            if (Time(until) is not { } to)
            {
                error = $"--until '{until}' is not a time such as 2026-12-04T18:00:00Z.";
                return false;
            }

            window["to"] = to;
        }

        return true;
    }

    private static DateTimeOffset? Time(string text) =>
        BundleParser.ParseDuration(text) is { } back ? DateTimeOffset.UtcNow - back
        : DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at) ? at
        : null;

    private static async Task<string> HashOfAsync(PlaneClient client, IAnsiConsole console, string fileOrHash, CancellationToken ct)
    {
        if (!File.Exists(fileOrHash))
        {
            return fileOrHash.StartsWith("sha256:", StringComparison.Ordinal)
                ? fileOrHash
                : throw new IOException($"'{fileOrHash}' is neither a file nor a bundle hash (sha256:…).");
        }

        var yaml = await File.ReadAllTextAsync(fileOrHash, ct);
        var stored = await client.SendContentAsync("policy", HttpMethod.Put, "policies?activate=false", new StringContent(yaml, Encoding.UTF8, "application/yaml"), ct);
        var hash = stored["hash"]!.GetValue<string>();
        var tests = stored["tests"];
        console.MarkupLineInterpolated($"uploaded {fileOrHash} as {hash} (version {stored["version"]}, not activated); its tests: {tests?["passed"]} of {tests?["total"]} pass");
        return hash;
    }

    private static void Print(IAnsiConsole console, JsonNode simulation)
    {
        var report = simulation["report"]!;
        var changes = report["changes"]!.AsArray();
        if (changes.Count > 0)
        {
            var table = new Table().AddColumns("proposal", "environment", "agent", "action", "from → to", "rules before", "rules after");
            foreach (var change in changes)
            {
                var outcome = change!["outcomeChanged"]!.GetValue<bool>() ? $"{change["from"]} → {change["to"]}" : $"{change["to"]} (rules only)";
                table.AddRow(Markup.Escape($"{change["proposalId"]}"), Markup.Escape($"{change["environment"]}"), Markup.Escape($"{change["agentId"] ?? "-"}"),
                    Markup.Escape($"{change["actionKind"]}"), Markup.Escape(outcome), Markup.Escape(Rules(change["rulesBefore"])), Markup.Escape(Rules(change["rulesAfter"])));
            }

            console.Write(table);
        }

        foreach (var (title, key) in new[] { ("by environment", "byEnvironment"), ("by agent", "byAgent") })
        {
            var counts = report[key]!.AsArray().Select(c => $"{c!["key"]}: {c["changed"]} changed, {c["rulesOnly"]} rules only of {c["replayed"]}");
            console.MarkupLineInterpolated($"{title}: {string.Join("; ", counts)}");
        }

        console.MarkupLineInterpolated($"replayed {report["replayed"]}: {report["unchanged"]} unchanged, {report["changed"]} changed outcome, {report["rulesOnly"]} same outcome by other rules{(simulation["truncated"]!.GetValue<bool>() ? " (window truncated to the newest)" : string.Empty)}");
        console.MarkupLineInterpolated($"simulation {simulation["id"]} of {simulation["bundleHash"]}: activate with  POST /policies/{simulation["bundleHash"]}/activate?simulationId={simulation["id"]}");
    }

    private static string Rules(JsonNode? rules) => string.Join(", ", rules!.AsArray().Select(r => r!.GetValue<string>()));
}

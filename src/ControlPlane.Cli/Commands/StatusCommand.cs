using System.CommandLine;
using System.Text.Json;
using Spectre.Console;

namespace ControlPlane.Cli.Commands;

/// <summary>`controlplane status`: asks every service's /health and prints one row each; exit 1 if any is not healthy.</summary>
public static class StatusCommand
{
    public static Command Create()
    {
        var command = new Command("status", "Show whether every ControlPlane service is healthy (its database, the broker, Redis).");
        command.SetAction(async (_, ct) =>
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            var table = new Table().AddColumns("service", "url", "status", "checks");
            var allHealthy = true;
            foreach (var service in PlaneEndpoints.DefaultPorts.Keys)
            {
                var url = new Uri(PlaneEndpoints.For(service), "health");
                var (status, checks) = await ProbeAsync(http, url, ct);
                allHealthy &= status == "Healthy";
                table.AddRow(service, url.ToString(), status == "Healthy" ? "[green]Healthy[/]" : $"[red]{Markup.Escape(status)}[/]", Markup.Escape(checks));
            }

            AnsiConsole.Write(table);
            return allHealthy ? 0 : 1;
        });
        return command;
    }

    private static async Task<(string Status, string Checks)> ProbeAsync(HttpClient http, Uri url, CancellationToken ct)
    {
        try
        {
            using var response = await http.GetAsync(url, ct);
            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
            var status = body.RootElement.GetProperty("status").GetString() ?? "Unknown";
            var checks = string.Join(", ", body.RootElement.GetProperty("checks").EnumerateObject()
                .Select(c => $"{c.Name}={c.Value.GetProperty("status").GetString()}"));
            return (status, checks);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException or KeyNotFoundException)
        {
            return ("Unreachable", ex.GetType().Name);
        }
    }
}

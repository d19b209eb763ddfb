using System.CommandLine;
using System.Text.Json;
using Spectre.Console;

namespace ControlPlane.Cli.Commands;

/// <summary>
/// `controlplane evidence bundle &lt;proposalId&gt; [--out file] [--token t] [--evidence-url u]`: downloads the
/// proposal's evidence bundle and writes it to a file (see <see cref="EvidenceDownload"/> for the token and address).
/// </summary>
public static class EvidenceBundleCommand
{
    public const string TokenVariable = EvidenceDownload.TokenVariable;

    public static Command Create(IAnsiConsole console, HttpMessageHandler? handler = null)
    {
        var proposal = new Argument<Guid>("proposalId") { Description = "The proposal whose evidence to download." };
        var download = new EvidenceDownload("bundle", "evidence-<proposalId>.json");
        var command = new Command("bundle", "Download a proposal's signed evidence bundle to a file.");
        command.Arguments.Add(proposal);
        download.AddTo(command);
        command.SetAction((parse, ct) =>
        {
            var id = parse.GetValue(proposal);
            return download.RunAsync(parse, $"evidence/proposals/{id:D}/bundle", $"evidence-{id:D}.json", console, handler, ct, Redactions);
        });
        return command;
    }

    /// <summary>What the bundle left out or disclosed of its committed fields; null when it holds none.</summary>
    private static string? Redactions(byte[] body)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            if (!json.RootElement.TryGetProperty("commitments", out var commitments) || commitments.ValueKind != JsonValueKind.Array || commitments.GetArrayLength() == 0)
            {
                return null;
            }

            var redacted = commitments.EnumerateArray().Count(c => c.TryGetProperty("salt", out var salt) && salt.ValueKind == JsonValueKind.Null);
            return redacted > 0
                ? $"{redacted} of {commitments.GetArrayLength()} sensitive fields redacted (commitments only; evidence:read-sensitive discloses them); evidence recorded the disclosure."
                : $"{commitments.GetArrayLength()} sensitive fields disclosed; evidence recorded the disclosure.";
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

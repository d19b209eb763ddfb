using System.CommandLine;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Spectre.Console;

namespace ControlPlane.Cli.Commands;

/// <summary>
/// `controlplane evidence bundle &lt;proposalId&gt; [--out file] [--token t] [--evidence-url u]`: downloads the
/// proposal's evidence bundle and writes it to a file. The bearer token comes from --token or CONTROLPLANE_TOKEN;
/// evidence's address from --evidence-url, services__evidence__http__0, or the ./run.sh default.
/// </summary>
public static class EvidenceBundleCommand
{
    public const string TokenVariable = "CONTROLPLANE_TOKEN";
    private const int Attempts = 5;

    public static Command Create(IAnsiConsole console, HttpMessageHandler? handler = null)
    {
        var proposal = new Argument<Guid>("proposalId") { Description = "The proposal whose evidence to download." };
        var output = new Option<FileInfo?>("--out", "-o") { Description = "Where to write the bundle (default: evidence-<proposalId>.json)." };
        var token = new Option<string?>("--token") { Description = $"Bearer token with evidence:read for audience 'evidence' (default: ${TokenVariable})." };
        var url = new Option<string?>("--evidence-url") { Description = "Evidence's base address (default: services__evidence__http__0, else http://127.0.0.1:5106)." };
        var human = new Option<string?>("--as") { Description = "Get the token for this seeded human from the development IdP (Development only), e.g. aud.auditor@example.com." };
        var command = new Command("bundle", "Download a proposal's signed evidence bundle to a file.");
        command.Arguments.Add(proposal);
        command.Options.Add(output);
        command.Options.Add(token);
        command.Options.Add(url);
        command.Options.Add(human);
        command.SetAction(async (parse, ct) =>
        {
            var bearer = parse.GetValue(token);
            if (bearer is null && parse.GetValue(human) is { } who)
            {
                using var identity = new PlaneClient(new Credentials(who, null, null, null));
                try
                {
                    bearer = await identity.TokenAsync("evidence", ct);
                }
                catch (Exception ex) when (ex is PlaneException or HttpRequestException)
                {
                    console.MarkupLineInterpolated($"[red]{ex.Message}[/]");
                    return 2;
                }
            }

            return await RunAsync(parse.GetValue(proposal), parse.GetValue(output), bearer, parse.GetValue(url), console, handler, ct);
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

    private static async Task<int> RunAsync(Guid proposalId, FileInfo? output, string? token, string? url, IAnsiConsole console,
        HttpMessageHandler? handler, CancellationToken ct)
    {
        token ??= Environment.GetEnvironmentVariable(TokenVariable);
        if (string.IsNullOrWhiteSpace(token))
        {
            console.MarkupLine($"[red]No token: pass --token, --as <human> (development IdP) or set {TokenVariable} (a token for audience 'evidence').[/]");
            return 2;
        }

        Uri baseAddress;
        if (url is null)
        {
            baseAddress = PlaneEndpoints.For("evidence");
        }
        else if (Uri.TryCreate(url.TrimEnd('/') + "/", UriKind.Absolute, out var parsed) && parsed.Scheme is "http" or "https")
        {
            baseAddress = parsed;
        }
        else
        {
            console.MarkupLineInterpolated($"[red]--evidence-url '{url}' is not an http(s) address.[/]");
            return 2;
        }

        var address = new Uri(baseAddress, $"evidence/proposals/{proposalId:D}/bundle");
        using var http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        http.Timeout = TimeSpan.FromSeconds(30);

        try
        {
            for (var attempt = 1; ; attempt++)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, address);
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
                using var response = await http.SendAsync(request, ct);
                var body = await response.Content.ReadAsByteArrayAsync(ct);
                if (response.StatusCode == HttpStatusCode.ServiceUnavailable && attempt < Attempts)
                {
                    // Evidence answers 503 until its own key's announcement is recorded; that takes a moment after a first start.
                    await Task.Delay(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1), ct);
                    continue;
                }

                if (response.StatusCode != HttpStatusCode.OK)
                {
                    console.MarkupLineInterpolated($"[red]{address} answered {(int)response.StatusCode} {response.ReasonPhrase}: {Describe(body)}[/]");
                    return 1;
                }

                var path = output?.FullName ?? Path.GetFullPath($"evidence-{proposalId:D}.json");
                await File.WriteAllBytesAsync(path, body, ct);
                console.WriteLine(path);
                if (Redactions(body) is { } redactions)
                {
                    console.WriteLine(redactions);
                }

                return 0;
            }
        }
        catch (HttpRequestException ex)
        {
            console.MarkupLineInterpolated($"[red]cannot reach evidence at {baseAddress}: {ex.Message}[/]");
            return 1;
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            console.MarkupLineInterpolated($"[red]evidence at {baseAddress} did not answer within {http.Timeout.TotalSeconds:0} s[/]");
            return 1;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            console.MarkupLineInterpolated($"[red]cannot write the bundle: {ex.Message}[/]");
            return 1;
        }
    }

    /// <summary>The problem's title and detail when the body is RFC 9457, else the status alone.</summary>
    private static string Describe(byte[] body)
    {
        try
        {
            using var problem = JsonDocument.Parse(body);
            var root = problem.RootElement;
            var title = root.TryGetProperty("title", out var t) ? t.GetString() : null;
            var detail = root.TryGetProperty("detail", out var d) ? d.GetString() : null;
            return string.Join(": ", new[] { title, detail }.Where(s => !string.IsNullOrEmpty(s)));
        }
        catch (JsonException)
        {
            return "(no problem details)";
        }
    }
}

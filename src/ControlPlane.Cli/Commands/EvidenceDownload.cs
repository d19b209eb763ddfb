using System.CommandLine;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Spectre.Console;

namespace ControlPlane.Cli.Commands;

/// <summary>
/// Downloads one of evidence's files for a proposal to a file: the options every such command takes (--out, --token,
/// --as, --evidence-url) and the request. The bearer token comes from --token, --as (development IdP) or
/// CONTROLPLANE_TOKEN; evidence's address from --evidence-url, services__evidence__http__0, or the ./run.sh default.
/// </summary>
public sealed class EvidenceDownload
{
    public const string TokenVariable = "CONTROLPLANE_TOKEN";
    private const int Attempts = 5;

    public EvidenceDownload(string what, string defaultName)
    {
        Output = new Option<FileInfo?>("--out", "-o") { Description = $"Where to write the {what} (default: {defaultName})." };
    }

    public Option<FileInfo?> Output { get; }

    public Option<string?> Token { get; } = new("--token") { Description = $"Bearer token with evidence:read for audience 'evidence' (default: ${TokenVariable})." };

    public Option<string?> Url { get; } = new("--evidence-url") { Description = "Evidence's base address (default: services__evidence__http__0, else http://127.0.0.1:5106)." };

    public Option<string?> Human { get; } = new("--as") { Description = "Get the token for this seeded human from the development IdP (Development only), e.g. aud.auditor@example.com." };

    public void AddTo(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        command.Options.Add(Output);
        command.Options.Add(Token);
        command.Options.Add(Url);
        command.Options.Add(Human);
    }

    /// <summary>Evidence's base address from --evidence-url or the environment; null (after saying why) when --evidence-url is not http(s).</summary>
    public static Uri? BaseAddress(string? url, IAnsiConsole console)
    {
        ArgumentNullException.ThrowIfNull(console);
        if (url is null)
        {
            return PlaneEndpoints.For("evidence");
        }

        if (Uri.TryCreate(url.TrimEnd('/') + "/", UriKind.Absolute, out var parsed) && parsed.Scheme is "http" or "https")
        {
            return parsed;
        }

        console.MarkupLineInterpolated($"[red]--evidence-url '{url}' is not an http(s) address.[/]");
        return null;
    }

    /// <summary>GETs <paramref name="resource"/> (relative to evidence) and writes it to --out or <paramref name="defaultFile"/>; prints the
    /// path, then what <paramref name="summarize"/> says about the body when it says something.</summary>
    public async Task<int> RunAsync(ParseResult parse, string resource, string defaultFile, IAnsiConsole console, HttpMessageHandler? handler, CancellationToken ct,
        Func<byte[], string?>? summarize = null)
    {
        ArgumentNullException.ThrowIfNull(parse);
        ArgumentNullException.ThrowIfNull(console);
        var token = parse.GetValue(Token);
        if (token is null && parse.GetValue(Human) is { } who)
        {
            using var identity = new PlaneClient(new Credentials(who, null, null, null));
            try
            {
                token = await identity.TokenAsync("evidence", ct);
            }
            catch (Exception ex) when (ex is PlaneException or HttpRequestException)
            {
                console.MarkupLineInterpolated($"[red]{ex.Message}[/]");
                return 2;
            }
        }

        token ??= Environment.GetEnvironmentVariable(TokenVariable);
        if (string.IsNullOrWhiteSpace(token))
        {
            console.MarkupLine($"[red]No token: pass --token, --as <human> (development IdP) or set {TokenVariable} (a token for audience 'evidence').[/]");
            return 2;
        }

        if (BaseAddress(parse.GetValue(Url), console) is not { } baseAddress)
        {
            return 2;
        }

        var address = new Uri(baseAddress, resource);
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
                    // Evidence answers 503 until its own key's announcement is recorded (or its log caught up); that takes a moment.
                    await Task.Delay(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1), ct);
                    continue;
                }

                if (response.StatusCode != HttpStatusCode.OK)
                {
                    console.MarkupLineInterpolated($"[red]{address} answered {(int)response.StatusCode} {response.ReasonPhrase}: {Describe(body)}[/]");
                    return 1;
                }

                var path = parse.GetValue(Output)?.FullName ?? Path.GetFullPath(defaultFile);
                await File.WriteAllBytesAsync(path, body, ct);
                console.WriteLine(path);
                if (summarize?.Invoke(body) is { } summary)
                {
                    console.WriteLine(summary);
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
            console.MarkupLineInterpolated($"[red]cannot write the file: {ex.Message}[/]");
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

using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using ControlPlane.Contracts;

namespace ControlPlane.Runner.Actions;

/// <summary>The checked request, once the package's parameters passed the runner's rules.</summary>
public sealed record HttpCheckRequest(Uri Url, int ExpectedStatus, int MaxLatencyMs);

/// <summary>The rules for http-check parameters, pure: url (http/https, allow-listed host, no credentials), expectedStatus, maxLatencyMs.</summary>
public static class HttpCheckRules
{
    public const int DefaultExpectedStatus = 200;
    public const int DefaultMaxLatencyMs = 5000;

    public static (HttpCheckRequest? Request, string? Refusal) Parse(IReadOnlyDictionary<string, string>? parameters, IReadOnlyCollection<string> allowedHosts)
    {
        ArgumentNullException.ThrowIfNull(allowedHosts);
        if (parameters is null || !parameters.TryGetValue("url", out var text) || string.IsNullOrWhiteSpace(text))
        {
            return (null, "http-check needs the parameter 'url'");
        }

        if (!Uri.TryCreate(text, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
        {
            return (null, $"url '{text}' is not an absolute http or https URL");
        }

        if (url.UserInfo.Length > 0)
        {
            return (null, "url must not carry credentials");
        }

        if (!IsAllowed(url, allowedHosts))
        {
            return (null, $"host '{url.Host}' is not allow-listed for http-check on this runner");
        }

        var expected = DefaultExpectedStatus;
        if (parameters.TryGetValue("expectedStatus", out var statusText) &&
            (!int.TryParse(statusText, NumberStyles.None, CultureInfo.InvariantCulture, out expected) || expected is < 100 or > 599))
        {
            return (null, $"expectedStatus '{statusText}' is not an HTTP status code");
        }

        var maxLatency = DefaultMaxLatencyMs;
        if (parameters.TryGetValue("maxLatencyMs", out var latencyText) &&
            (!int.TryParse(latencyText, NumberStyles.None, CultureInfo.InvariantCulture, out maxLatency) || maxLatency is < 1 or > 600_000))
        {
            return (null, $"maxLatencyMs '{latencyText}' is not between 1 and 600000");
        }

        return (new HttpCheckRequest(url, expected, maxLatency), null);
    }

    /// <summary>An entry "host" allows any port of that host; "host:port" only that port.</summary>
    public static bool IsAllowed(Uri url, IEnumerable<string> allowedHosts)
    {
        ArgumentNullException.ThrowIfNull(url);
        ArgumentNullException.ThrowIfNull(allowedHosts);
        var host = url.IdnHost;
        var hostAndPort = $"{host}:{url.Port.ToString(CultureInfo.InvariantCulture)}";
        return allowedHosts.Any(entry =>
            string.Equals(entry.Trim(), host, StringComparison.OrdinalIgnoreCase) ||
            string.Equals(entry.Trim(), hostAndPort, StringComparison.OrdinalIgnoreCase));
    }
}

/// <summary>
/// http-check: one GET without redirects (a redirect could leave the allow-list) and without retries (they would
/// hide latency). Succeeded when the status is the expected one within the latency bound; the excerpt says what was measured.
/// </summary>
public sealed class HttpCheckHandler(RunnerOptions options, TimeProvider clock) : IActionHandler, IDisposable
{
    private const int MaxBodyBytes = 1024 * 1024;
    private readonly HttpClient _http = new(new SocketsHttpHandler { AllowAutoRedirect = false, UseProxy = false, UseCookies = false })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

    public string ActionKind => HttpCheckOptions.Kind;

    public string? Refusal(WorkPackage package)
    {
        ArgumentNullException.ThrowIfNull(package);
        return HttpCheckRules.Parse(package.Parameters, options.Actions.HttpCheck.AllowedHosts).Refusal;
    }

    public async Task<ActionOutcome> RunAsync(WorkPackage package, DateTimeOffset deadline, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(package);
        var (check, refusal) = HttpCheckRules.Parse(package.Parameters, options.Actions.HttpCheck.AllowedHosts);
        if (check is null)
        {
            return ActionOutcome.Refuse(refusal!);
        }

        // Waiting past the bound cannot turn the check green; a little grace lets the excerpt show the real latency.
        var wait = TimeSpan.FromMilliseconds(check.MaxLatencyMs) + TimeSpan.FromSeconds(1);
        var remaining = deadline - clock.GetUtcNow();
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(wait < remaining ? wait : remaining);

        var watch = Stopwatch.StartNew();
        try
        {
            using var response = await _http.GetAsync(check.Url, HttpCompletionOption.ResponseHeadersRead, limit.Token);
            var latency = watch.Elapsed;
            var (digest, bytes) = await DigestBodyAsync(response, limit.Token);
            var status = (int)response.StatusCode;
            var measured = $"GET {check.Url} -> {status} in {latency.TotalMilliseconds:0} ms (expected {check.ExpectedStatus} within {check.MaxLatencyMs} ms; body {bytes} bytes)";
            string? reason = null;
            if (status != check.ExpectedStatus)
            {
                reason = $"status {status}, expected {check.ExpectedStatus}";
            }
            else if (latency.TotalMilliseconds > check.MaxLatencyMs)
            {
                reason = $"latency {latency.TotalMilliseconds:0} ms exceeds {check.MaxLatencyMs} ms";
            }

            return new ActionOutcome(reason is null ? WorkOutcome.Succeeded : WorkOutcome.Failed, null, watch.Elapsed, digest, measured, reason);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            var waited = watch.Elapsed.TotalMilliseconds;
            var measured = $"GET {check.Url} -> no response within {waited:0} ms (expected {check.ExpectedStatus} within {check.MaxLatencyMs} ms)";
            return new ActionOutcome(WorkOutcome.Failed, null, watch.Elapsed, ActionOutcome.EmptyDigest, measured,
                $"no response within {waited:0} ms (bound {check.MaxLatencyMs} ms)");
        }
        catch (HttpRequestException ex)
        {
            var measured = $"GET {check.Url} -> request failed after {watch.Elapsed.TotalMilliseconds:0} ms: {ex.Message}";
            return new ActionOutcome(WorkOutcome.Failed, null, watch.Elapsed, ActionOutcome.EmptyDigest, measured, $"request failed: {ex.Message}");
        }
    }

    /// <summary>"sha256:hex" over the body (its first MiB) and how many bytes that was.</summary>
    private static async Task<(string Digest, long Bytes)> DigestBodyAsync(HttpResponseMessage response, CancellationToken ct)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using var body = await response.Content.ReadAsStreamAsync(ct);
        var buffer = new byte[8192];
        long total = 0;
        int read;
        while (total < MaxBodyBytes && (read = await body.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, MaxBodyBytes - total)), ct)) > 0)
        {
            hash.AppendData(buffer, 0, read);
            total += read;
        }

        return ("sha256:" + Convert.ToHexStringLower(hash.GetCurrentHash()), total);
    }

    public void Dispose() => _http.Dispose();
}

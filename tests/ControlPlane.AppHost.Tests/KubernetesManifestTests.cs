using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace ControlPlane.AppHost.Tests;

/// <summary>
/// The hand-written kustomize base against the AppHost's own model: the AppHost writes its manifest
/// (`--publisher manifest`), kubectl renders the base from the checkout, and every service's Deployment must set
/// each configuration key the AppHost injects into that service, with /alive and /health probes.
/// </summary>
public sealed partial class KubernetesManifestTests
{
    private static readonly string[] Services = ["identity", "system-graph", "policy", "orchestrator", "fleet", "evidence", "console"];

    [Fact]
    public async Task Every_deployment_sets_the_keys_the_AppHost_injects_and_probes_alive_and_health()
    {
        var rendered = await RunAsync("kubectl", ["kustomize", Path.Combine(RepositoryRoot, "aspire", "kubernetes", "base")], RepositoryRoot,
            "kubectl is needed to render the kustomize base; eng/test-tools.sh installs it (./test.sh runs it).");
        var documents = rendered.Split("\n---\n");
        var config = documents.Single(d => d.Contains("kind: ConfigMap", StringComparison.Ordinal));
        var configKeys = ConfigMapKey().Matches(config[config.IndexOf("\ndata:", StringComparison.Ordinal)..]).Select(m => m.Groups[1].Value).ToHashSet();

        // A process setting the AppHost gives every project, not a configuration key: checked by its value.
        Assert.Contains($"{NativeHeap.ArenaMaxKey}: \"{NativeHeap.DefaultArenaMax}\"", config, StringComparison.Ordinal);

        var manifest = await AppHostManifestAsync();
        foreach (var service in Services)
        {
            var deployment = documents.Single(d => d.Contains("kind: Deployment", StringComparison.Ordinal) && d.Contains($"\n  name: {service}\n", StringComparison.Ordinal));
            var set = EnvName().Matches(deployment).Select(m => m.Groups[1].Value).Concat(configKeys).ToHashSet();
            var injected = ConfigurationKeys(manifest.GetProperty("resources").GetProperty(service));

            Assert.NotEmpty(injected);
            var missing = injected.Where(k => !set.Contains(k)).ToList();
            Assert.True(missing.Count == 0, $"{service}'s Deployment does not set {string.Join(", ", missing)}, which the AppHost injects.");
            Assert.Contains("path: /alive", deployment, StringComparison.Ordinal);
            Assert.Contains("path: /health", deployment, StringComparison.Ordinal);
        }
    }

    /// <summary>
    /// The keys ControlPlane reads (ConnectionStrings__name, services__name__http__0, Section__Key). Left out: the
    /// aliases Aspire adds for other client libraries (NAME_HTTP, ConnectionStrings__name_db, https twins) and
    /// Aspire's own process settings (HTTP_PORTS, ASPNETCORE_FORWARDEDHEADERS_ENABLED, OTEL_DOTNET_EXPERIMENTAL_*).
    /// </summary>
    private static List<string> ConfigurationKeys(JsonElement resource) =>
    [
        .. resource.GetProperty("env").EnumerateObject().Select(p => p.Name)
            .Where(k => k.Contains("__", StringComparison.Ordinal) && k != k.ToUpperInvariant())
            .Where(k => !k.Contains("__https__", StringComparison.Ordinal))
            .Where(k => !(k.StartsWith("ConnectionStrings__", StringComparison.Ordinal) && k.Contains('_', StringComparison.Ordinal) && k["ConnectionStrings__".Length..].Contains('_', StringComparison.Ordinal))),
    ];

    private static async Task<JsonElement> AppHostManifestAsync()
    {
        var path = Path.Combine(Path.GetTempPath(), $"cpt-manifest-{Guid.NewGuid():N}.json");
        try
        {
            // The AppHost's own output (beside its runtimeconfig), in the configuration these tests were built in.
            var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
            var appHost = Path.Combine(RepositoryRoot, "ControlPlane.AppHost", "bin", configuration, "net10.0", "ControlPlane.AppHost.dll");
            await RunAsync("dotnet", [appHost, "--publisher", "manifest", "--output-path", path, "--ControlPlane:Servers=local"],
                Path.Combine(RepositoryRoot, "ControlPlane.AppHost"), "the AppHost could not write its manifest.");
            using var document = JsonDocument.Parse(await File.ReadAllTextAsync(path));
            return document.RootElement.Clone();
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static async Task<string> RunAsync(string command, string[] args, string workingDirectory, string whenMissing)
    {
        var start = new ProcessStartInfo(command) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException($"{command} could not be started: {whenMissing}", ex);
        }

        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            await process.WaitForExitAsync(timeout.Token);
            Assert.True(process.ExitCode == 0, $"{command} {string.Join(' ', args)} exited {process.ExitCode}: {await stderr}");
            return (await stdout).Replace("\r\n", "\n", StringComparison.Ordinal);
        }
    }

    private static string RepositoryRoot => ControlPlane.Testing.RepositoryRoot.Path;

    [GeneratedRegex(@"- name: ([A-Za-z0-9_\-]+)")]
    private static partial Regex EnvName();

    [GeneratedRegex(@"(?m)^  ([A-Za-z0-9_\-]+):")]
    private static partial Regex ConfigMapKey();
}

using System.Diagnostics;
using System.Globalization;

namespace ControlPlane.Chaos.Tests.Harness;

/// <summary>
/// One ControlPlane service or runner as its own OS process (`dotnet ControlPlane.X.dll`), configured through
/// environment variables with the keys ./run.sh and the AppHost inject, on a fixed port across restarts.
/// </summary>
public sealed class PlaneProcess : IDisposable
{
    private static readonly HttpClient Health = new() { Timeout = TimeSpan.FromSeconds(5) };
    private readonly string _dll;
    private readonly IReadOnlyDictionary<string, string?> _environment;
    private readonly string _logFile;
    private ChildProcess? _process;

    public PlaneProcess(string name, string dll, int port, IReadOnlyDictionary<string, string?> environment, string logs)
    {
        Name = name;
        _dll = dll;
        Port = port;
        _logFile = Path.Combine(logs, $"{name}.log");
        var all = new Dictionary<string, string?>(environment, StringComparer.Ordinal)
        {
            ["ASPNETCORE_URLS"] = string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}"),
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["DOTNET_ENVIRONMENT"] = "Development",
            ["OTEL_SDK_DISABLED"] = "true",
        };
        _environment = all;
    }

    public string Name { get; }

    public int Port { get; }

    public Uri Address => new($"http://127.0.0.1:{Port}");

    public async Task StartAsync(TimeSpan timeout)
    {
        _process?.Dispose();
        _process = ChildProcess.Start("dotnet", [_dll], _environment, Path.GetDirectoryName(_dll)!, _logFile);
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"{Name} exited during start; see {_logFile}");
            }

            try
            {
                using var response = await Health.GetAsync(new Uri(Address, "health"));
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // not listening yet
            }

            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"{Name} was not healthy within {timeout.TotalSeconds:0} s; see {_logFile}");
            }

            await Task.Delay(250);
        }
    }

    /// <summary>kill -9.</summary>
    public void Kill() => _process?.Kill();

    public void Dispose() => _process?.Dispose();
}

using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using ControlPlane.EndToEnd.Tests.Support;
using ControlPlane.Testing;
using Microsoft.Playwright;

namespace ControlPlane.Console.Tests;

/// <summary>
/// The plane of the end-to-end tests, the console as its own process (Development, as ./run.sh runs it) on a free
/// port that identity knows as a redirect URI, and Debian's Chromium.
/// </summary>
public sealed class ConsolePlane : ControlPlane.EndToEnd.Tests.Support.Plane
{
    private const string Chromium = "/usr/bin/chromium";
    private readonly int _port = FreePort();
    private readonly StringBuilder _log = new();
    private Process? _console;
    private IPlaywright? _playwright;

    public Uri Console => new($"http://127.0.0.1:{_port}/");

    public IBrowser Browser { get; private set; } = null!;

    protected override void ConfigureIdentity(PlaneSettings settings) => settings
        .Set("Identity:Clients:console:RedirectUris:0", $"{Console}signin-oidc")
        .Set("Identity:Clients:console:PostLogoutRedirectUris:0", $"{Console}signout-callback-oidc");

    public override async ValueTask InitializeAsync()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: eng/test-tools.sh installs Debian's chromium (./test.sh runs it).");
        await base.InitializeAsync();
        StartConsole();
        await WaitForConsoleAsync();
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
    }

    /// <summary>A fresh browser (no cookies) signed in to the console as <paramref name="human"/> through identity's development login.</summary>
    public async Task<IPage> SignInAsync(string human)
    {
        var context = await Browser.NewContextAsync(new() { ViewportSize = new() { Width = 1440, Height = 1000 } });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(20_000);
        await page.GotoAsync(Console.ToString());
        Assert.StartsWith(Address("identity").ToString(), page.Url, StringComparison.Ordinal);
        await page.Locator($"button[data-principal='{human}']").ClickAsync();
        await page.WaitForURLAsync(url => url.StartsWith(Console.ToString(), StringComparison.Ordinal) && !url.Contains("signin-oidc", StringComparison.Ordinal));
        await page.GetByTestId("signed-in-as").WaitForAsync();
        Assert.Contains(human, await page.GetByTestId("signed-in-as").InnerTextAsync(), StringComparison.Ordinal);
        return page;
    }

    /// <summary>Saves the page under the test results (CONTROLPLANE_TEST_RESULTS, as ./test.sh sets it), else beside the binaries.</summary>
    public static async Task<string> ScreenshotAsync(IPage page, string name)
    {
        var folder = Environment.GetEnvironmentVariable("CONTROLPLANE_TEST_RESULTS") is { Length: > 0 } results
            ? results
            : Path.Combine(AppContext.BaseDirectory, "TestResults");
        folder = Path.Combine(folder, "console");
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, $"{name}.png");
        await page.ScreenshotAsync(new() { Path = path, FullPage = true });
        return path;
    }

    public string ConsoleLog
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    private void StartConsole()
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name; // bin/<configuration>/net10.0
        var folder = Path.Combine(RepositoryPaths.Root, "src", "ControlPlane.Console", "bin", configuration, "net10.0");
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(folder, "ControlPlane.Console.dll"));
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        start.Environment["ASPNETCORE_URLS"] = Console.ToString().TrimEnd('/');
        start.Environment["Console__RefreshInterval"] = "00:00:01";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        foreach (var service in new[] { "identity", "system-graph", "policy", "orchestrator", "fleet", "evidence" })
        {
            start.Environment[$"services__{service}__http__0"] = Address(service).ToString().TrimEnd('/');
        }

        _console = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start the console.");
        _console.OutputDataReceived += (_, e) => Append(e.Data);
        _console.ErrorDataReceived += (_, e) => Append(e.Data);
        _console.BeginOutputReadLine();
        _console.BeginErrorReadLine();
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_log)
            {
                _log.AppendLine(line);
            }
        }
    }

    private async Task WaitForConsoleAsync()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (_console!.HasExited)
            {
                throw new InvalidOperationException($"The console exited ({_console.ExitCode}):\n{ConsoleLog}");
            }

            try
            {
                using var response = await http.GetAsync(new Uri(Console, "health"));
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(250);
        }

        throw new InvalidOperationException($"The console did not become healthy at {Console}:\n{ConsoleLog}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public override async ValueTask DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        _playwright?.Dispose();
        if (_console is { HasExited: false })
        {
            _console.Kill(entireProcessTree: true);
            await _console.WaitForExitAsync();
        }

        _console?.Dispose();
        await base.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class ConsoleCollection : ICollectionFixture<ConsolePlane>
{
    public const string Name = "console";
}

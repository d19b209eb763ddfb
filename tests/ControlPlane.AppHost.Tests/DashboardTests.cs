using System.Collections.Concurrent;
using Microsoft.Playwright;

namespace ControlPlane.AppHost.Tests;

/// <summary>
/// The Aspire dashboard as an SRE opens it, in Debian's Chromium (Playwright never downloads a browser): every
/// service and runner listed Running and healthy. The screenshot lands in the test results. A page that fails (the
/// dashboard's own Blazor circuit ends; seen once in CI with every resource healthy in the AppHost) is reloaded, as its
/// "Reload" link asks, at most twice; each failed page's screenshot and the browser's console errors are kept.
/// </summary>
[Collection(RunningPlaneCollection.Name)]
public sealed class DashboardTests(RunningPlane plane, ITestOutputHelper output)
{
    private const string Chromium = "/usr/bin/chromium";

    // A page that fails again after this many reloads is a fault, not a passing glitch.
    private const int Reloads = 2;

    [Fact]
    public async Task The_dashboard_lists_every_service_and_runner_running_and_healthy()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: eng/test-tools.sh installs Debian's chromium (./test.sh runs it).");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1600, Height = 1000 } });
        var consoleErrors = new ConcurrentQueue<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                consoleErrors.Enqueue(message.Text);
            }
        };
        string ConsoleErrors() => consoleErrors.IsEmpty ? "none" : string.Join(" | ", consoleErrors);
        try
        {
            await page.GotoAsync(RunningPlane.Dashboard.ToString());
        }
        catch (PlaywrightException ex)
        {
            throw new InvalidOperationException($"The dashboard did not answer at {RunningPlane.Dashboard}: {ex.Message}\nAppHost: {await plane.StatesAsync()}", ex);
        }

        var states = new Dictionary<string, string>();
        var reloaded = 0;
        var deadline = DateTime.UtcNow.AddMinutes(2);
        do
        {
            // Blazor shows #blazor-error-ui when the page's circuit ends on an exception; the page then stops updating.
            if (reloaded < Reloads && await page.Locator("#blazor-error-ui").IsVisibleAsync())
            {
                reloaded++;
                await page.ScreenshotAsync(new() { Path = ScreenshotPath($"dashboard-failed-page-{reloaded}.png"), FullPage = true });
                output.WriteLine($"The dashboard's page failed; reloading ({reloaded} of {Reloads}). Browser console errors: {ConsoleErrors()}");
                await page.ReloadAsync();
            }

            foreach (var name in RunningPlane.Resources)
            {
                var row = page.GetByRole(AriaRole.Row).Filter(new() { Has = page.GetByRole(AriaRole.Gridcell).GetByText(name, new() { Exact = true }) });
                states[name] = await row.CountAsync() == 1 ? await row.InnerTextAsync() : "(not listed)";
            }

            if (states.Values.All(Healthy))
            {
                break;
            }

            await Task.Delay(1000);
        }
        while (DateTime.UtcNow < deadline);

        await page.ScreenshotAsync(new() { Path = ScreenshotPath("dashboard-resources.png"), FullPage = true });
        Assert.True(states.Values.All(Healthy),
            "Not every resource shows Running and healthy in the dashboard:\n" +
            string.Join("\n", states.Where(s => !Healthy(s.Value)).Select(s => $"{s.Key}: {s.Value.ReplaceLineEndings(" ")}")) +
            $"\nAppHost: {await plane.StatesAsync()}" +
            $"\nPage reloaded {reloaded} times; browser console errors: {ConsoleErrors()}");
    }

    // The dashboard writes "Running" in the state column, with "(Unhealthy)" / "(Degraded)" beside it until the
    // health checks pass.
    private static bool Healthy(string rowText) =>
        rowText.Contains("Running", StringComparison.Ordinal) &&
        !rowText.Contains("Unhealthy", StringComparison.OrdinalIgnoreCase) && !rowText.Contains("Degraded", StringComparison.OrdinalIgnoreCase);

    /// <summary>Under the test results folder (./test.sh passes --results-directory), else beside the test binaries.</summary>
    private static string ScreenshotPath(string file)
    {
        var folder = Environment.GetEnvironmentVariable("CONTROLPLANE_TEST_RESULTS") is { Length: > 0 } results
            ? results
            : Path.Combine(AppContext.BaseDirectory, "TestResults");
        Directory.CreateDirectory(folder);
        return Path.Combine(folder, file);
    }
}

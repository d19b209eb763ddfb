using System.Diagnostics;

namespace ControlPlane.Client.Tests;

/// <summary>Runs clients/python's unittest suite with python3 against the same real plane.</summary>
[Collection(ClientPlaneCollection.Name)]
public sealed class PythonClientTests(ClientPlane plane)
{
    [Fact]
    public async Task The_python_client_suite_passes_against_the_real_plane()
    {
        var python = Path.Combine(ClientPlane.Root, "clients", "python");
        var start = new ProcessStartInfo("python3", ["-m", "unittest", "discover", "-s", "tests", "-t", ".", "-v"])
        {
            WorkingDirectory = python,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["CONTROLPLANE_IDENTITY_URL"] = plane.Identity.Address.ToString();
        start.Environment["CONTROLPLANE_ORCHESTRATOR_URL"] = plane.Orchestrator.ToString();
        start.Environment["CONTROLPLANE_CLIENT_ID"] = ClientPlane.Agent;
        start.Environment["CONTROLPLANE_CLIENT_SECRET"] = ClientPlane.AgentSecret;
        start.Environment["PYTHONDONTWRITEBYTECODE"] = "1";

        using var process = Process.Start(start) ?? throw new InvalidOperationException("python3 did not start (is python3 on PATH?)");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        var output = await stdout + await stderr;

        Assert.True(process.ExitCode == 0, $"python3 -m unittest exited {process.ExitCode}:\n{output}");
        Assert.Contains("Ran 12 tests", output, StringComparison.Ordinal);
        Assert.Contains("test_the_plane_posts_signed_state_changes_of_the_agents_proposal", output, StringComparison.Ordinal);
        Assert.Contains("test_propose_then_watch_until_awaiting_approval", output, StringComparison.Ordinal);
        Assert.DoesNotContain(ClientPlane.AgentSecret, output, StringComparison.Ordinal);
    }
}

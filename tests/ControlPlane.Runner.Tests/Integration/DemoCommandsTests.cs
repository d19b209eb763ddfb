using ControlPlane.Contracts;
using ControlPlane.Runner.Actions;
using ControlPlane.Runner.Tests.Unit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;

namespace ControlPlane.Runner.Tests.Integration;

/// <summary>
/// The demo commands ./run.sh gives its runners, run by the real run-command handler from the demo configuration
/// files: two runners side by side, as run.sh starts them.
/// </summary>
public sealed class DemoCommandsTests : IDisposable
{
    private readonly string _state = Path.Combine(Path.GetTempPath(), $"cpt-demo-{Guid.NewGuid():N}");

    [Fact]
    public async Task Validation_restart_verification_rollback_and_the_failing_check_behave_as_documented()
    {
        var testing = Handler("runner.testing.json", "testing-1");
        var remediation = Handler("runner.remediation.json", "remediation-1");

        var unitTests = await RunAsync(testing, "unit-tests");
        var integrationTests = await RunAsync(testing, "integration-tests");
        var verifyBefore = await RunAsync(testing, "verify-service");
        var restart = await RunAsync(remediation, "restart-service");
        var verifyAfter = await RunAsync(testing, "verify-service");
        var rollback = await RunAsync(remediation, "rollback-service");
        var flaky = await RunAsync(testing, "flaky-check");

        Assert.Equal(WorkOutcome.Succeeded, unitTests.Outcome);
        Assert.Contains("42 tests, 0 failures", unitTests.Excerpt, StringComparison.Ordinal);
        Assert.Equal(WorkOutcome.Succeeded, integrationTests.Outcome);
        Assert.Equal(WorkOutcome.Failed, verifyBefore.Outcome);
        Assert.Equal(WorkOutcome.Succeeded, restart.Outcome);
        Assert.Contains("restarting billing (generation 1)", restart.Excerpt, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(_state, "runner-remediation-1", "workspace", "services", "billing.restarts")));
        Assert.Equal(WorkOutcome.Succeeded, verifyAfter.Outcome);
        Assert.Equal(WorkOutcome.Succeeded, rollback.Outcome);
        Assert.Contains("billing rolled back", rollback.Excerpt, StringComparison.Ordinal);
        Assert.Equal(WorkOutcome.Failed, flaky.Outcome);
        Assert.Equal(1, flaky.ExitCode);
    }

    [Fact]
    public async Task Run_suite_runs_the_named_suite_and_fails_as_often_as_the_operator_asked()
    {
        var testing = Handler("runner.testing.json", "testing-2");
        var suites = Path.Combine(_state, "runner-testing-2", "workspace", "suites");
        Directory.CreateDirectory(suites);
        await File.WriteAllTextAsync(Path.Combine(suites, "ledger-contract.fail"), "2\n");

        var passing = await RunSuiteAsync(testing, "billing-api", "billing");
        var first = await RunSuiteAsync(testing, "ledger-contract", "ledger");
        var second = await RunSuiteAsync(testing, "ledger-contract", "ledger");
        var third = await RunSuiteAsync(testing, "ledger-contract", "ledger");
        var unnamed = await RunSuiteAsync(testing, null, "ledger");

        Assert.Equal(WorkOutcome.Succeeded, passing.Outcome);
        Assert.Contains("suite billing-api for node billing", passing.Excerpt, StringComparison.Ordinal);
        Assert.Contains("check: billing responds on its health endpoint", passing.Excerpt, StringComparison.Ordinal);
        Assert.Contains("suite billing-api passed: 3 checks, 0 failures", passing.Excerpt, StringComparison.Ordinal);
        Assert.Equal((WorkOutcome.Failed, 1), (first.Outcome, first.ExitCode));
        Assert.Contains("injected failure (1 more failing run(s) after this one", first.Excerpt, StringComparison.Ordinal);
        Assert.Equal(WorkOutcome.Failed, second.Outcome);
        Assert.Equal(WorkOutcome.Succeeded, third.Outcome);
        Assert.False(File.Exists(Path.Combine(suites, "ledger-contract.fail")));
        Assert.Equal((WorkOutcome.Failed, 2), (unnamed.Outcome, unnamed.ExitCode));
    }

    [Fact]
    public async Task A_demo_command_keeps_only_the_digest_of_its_target_credential()
    {
        var remediation = Handler("runner.remediation.json", "remediation-3");
        const string token = "eyJhbGciOiJFUzI1NiJ9.eyJhdWQiOlsiYmlsbGluZyJdfQ.ZGVtby1zaWduYXR1cmU";
        var package = Packages.New(Guid.NewGuid().ToString("N")) with
        {
            Parameters = new Dictionary<string, string> { ["command"] = "restart-service", ["service"] = "billing" },
        };

        var restart = await remediation.RunAsync(package, token, DateTimeOffset.UtcNow.AddMinutes(2), CancellationToken.None);
        var services = Path.Combine(_state, "runner-remediation-3", "workspace", "services");

        Assert.Equal(WorkOutcome.Succeeded, restart.Outcome);
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(token))),
            (await File.ReadAllTextAsync(Path.Combine(services, "billing.credential-sha256"))).Trim());
        Assert.DoesNotContain(Directory.EnumerateFiles(services), f => File.ReadAllText(f).Contains(token, StringComparison.Ordinal));
    }

    private static Task<ActionOutcome> RunSuiteAsync(RunCommandHandler handler, string? suite, string node)
    {
        var parameters = new Dictionary<string, string> { ["command"] = "run-suite", ["node"] = node };
        if (suite is not null)
        {
            parameters["suite"] = suite;
        }

        return handler.RunAsync(Packages.New(Guid.NewGuid().ToString("N")) with { Parameters = parameters }, DateTimeOffset.UtcNow.AddMinutes(2), CancellationToken.None);
    }

    private RunCommandHandler Handler(string file, string runnerId)
    {
        var demo = Path.Combine(Repository.Root(), "src", "ControlPlane.Runner", "demo");
        var configuration = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(demo, file))
            .AddInMemoryCollection([
                new("Runner:Id", runnerId), new("Runner:ClientSecret", "demo-secret"), new("Runner:BaseDirectory", demo),
                new("Runner:StateDirectory", Path.Combine(_state, "runner-" + runnerId))])
            .Build();
        return new RunCommandHandler(RunnerConfiguration.Load(configuration, demo), TimeProvider.System, NullLogger<RunCommandHandler>.Instance);
    }

    private static Task<ActionOutcome> RunAsync(RunCommandHandler handler, string command) =>
        handler.RunAsync(Packages.New(Guid.NewGuid().ToString("N")) with { Parameters = new Dictionary<string, string> { ["command"] = command, ["service"] = "billing" } },
            DateTimeOffset.UtcNow.AddMinutes(2), CancellationToken.None);

    public void Dispose()
    {
        if (Directory.Exists(_state))
        {
            Directory.Delete(_state, recursive: true);
        }
    }
}

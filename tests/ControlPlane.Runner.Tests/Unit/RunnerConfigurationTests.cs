using Microsoft.Extensions.Configuration;

namespace ControlPlane.Runner.Tests.Unit;

public sealed class RunnerConfigurationTests
{
    private static IConfiguration Config(Dictionary<string, string?> values) => new ConfigurationBuilder().AddInMemoryCollection(values).Build();

    private static Dictionary<string, string?> Valid() => new()
    {
        ["Runner:Id"] = "runner-a",
        ["Runner:Fleet"] = "testing",
        ["Runner:ClientSecret"] = "secret-secret",
        ["Runner:Actions:run-command:Commands:unit-tests:Executable"] = "./unit-tests.sh",
        ["Runner:Actions:run-command:Commands:unit-tests:AllowParameters:0"] = "service",
        ["Runner:Actions:http-check:Enabled"] = "true",
        ["Runner:Actions:http-check:AllowedHosts:0"] = "127.0.0.1",
    };

    [Fact]
    public void A_valid_configuration_loads_with_defaults_and_its_capabilities_are_the_configured_actions()
    {
        var options = RunnerConfiguration.Load(Config(Valid()), "/srv/runner");

        Assert.Equal("runner-a", options.ClientId);
        Assert.Equal("/srv/runner/.state/runner-runner-a", options.StateDirectory);
        Assert.Equal("/srv/runner", options.BaseDirectory);
        Assert.Equal(TimeSpan.FromMinutes(5), options.Actions.RunCommand.Commands["unit-tests"].Timeout);
        Assert.Equal(["run-command", "run-command:unit-tests", "http-check"], RunnerConfiguration.Capabilities(options));
    }

    [Fact]
    public void A_misconfigured_runner_does_not_start_and_says_every_problem()
    {
        var values = Valid();
        values["Runner:Id"] = "runner a";
        values.Remove("Runner:ClientSecret");
        values["Runner:Actions:deploy:Enabled"] = "true";
        values["Runner:Actions:run-command:Commands:Bad Name:Executable"] = "";
        values["Runner:Actions:run-command:Commands:unit-tests:AllowParameters:1"] = "$(id)";

        var error = Assert.Throws<InvalidOperationException>(() => RunnerConfiguration.Load(Config(values), "/srv/runner"));

        Assert.Contains("Runner:Id must be", error.Message, StringComparison.Ordinal);
        Assert.Contains("Runner:ClientSecret is required", error.Message, StringComparison.Ordinal);
        Assert.Contains("Runner:Actions:deploy: this runner has no handler for 'deploy'", error.Message, StringComparison.Ordinal);
        Assert.Contains("Commands:Bad Name: a command name is", error.Message, StringComparison.Ordinal);
        Assert.Contains("Commands:Bad Name:Executable is required", error.Message, StringComparison.Ordinal);
        Assert.Contains("'$(id)' is not a parameter name", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_runner_without_any_action_does_not_start()
    {
        var error = Assert.Throws<InvalidOperationException>(() => RunnerConfiguration.Load(Config(new()
        {
            ["Runner:Id"] = "runner-a",
            ["Runner:Fleet"] = "testing",
            ["Runner:ClientSecret"] = "secret-secret",
        }), "/srv/runner"));

        Assert.Contains("No action is configured", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("runner.testing.json", "testing", new[]
    {
        "run-command", "run-command:flaky-check", "run-command:integration-tests", "run-command:run-suite", "run-command:unit-tests", "run-command:verify-service",
        "http-check",
    })]
    [InlineData("runner.remediation.json", "remediation", new[]
    {
        "run-command", "run-command:apply-config", "run-command:deploy", "run-command:restart-service", "run-command:rollback",
        "run-command:rollback-deploy", "run-command:rollback-service",
    })]
    public void The_demo_configurations_load_and_name_existing_executable_scripts(string file, string fleet, string[] capabilities)
    {
        var demo = DemoDirectory();
        var configuration = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(demo, file))
            .AddInMemoryCollection([new("Runner:Id", "demo-1"), new("Runner:ClientSecret", "demo-secret"), new("Runner:BaseDirectory", demo)])
            .Build();

        var options = RunnerConfiguration.Load(configuration, demo);

        Assert.Equal(fleet, options.Fleet);
        Assert.Equal(capabilities, RunnerConfiguration.Capabilities(options));
        Assert.All(options.Actions.RunCommand.Commands.Values, spec =>
        {
            var path = Path.GetFullPath(spec.Executable, demo);
            Assert.True(File.Exists(path), $"{path} is missing");
            Assert.True(File.GetUnixFileMode(path).HasFlag(UnixFileMode.UserExecute), $"{path} is not executable");
        });
    }

    private static string DemoDirectory() => Path.Combine(Repository.Root(), "src", "ControlPlane.Runner", "demo");
}

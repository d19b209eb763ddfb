using System.CommandLine;
using ControlPlane.Cli.Commands;
using ControlPlane.Cli.Tests.Evidence;

namespace ControlPlane.Cli.Tests.Policy;

/// <summary>`controlplane policy test &lt;file&gt;`: a bundle's own tests run offline, one line per case, exit code by outcome.</summary>
public sealed class PolicyTestCommandTests : IDisposable
{
    private const string Bundle = """
        rules:
          - id: prod-approval
            match: { environments: [production] }
            outcome: require-approval
            approval: { count: 1, roles: [approver], expiry: 4h }
          - id: dev-allow
            match: { environments: [dev] }
            outcome: allow
        tests:
          - name: dev-is-autonomous
            facts: { action: deploy, environment: dev }
            expect: { outcome: allow, rules: [dev-allow] }
          - name: production-needs-approval
            facts: { action: deploy, environment: production }
            expect: { outcome: require-approval, rules: [prod-approval] }
        """;

    private readonly string _directory = Directory.CreateTempSubdirectory("cp-policy-cli-").FullName;

    [Fact]
    public async Task A_bundle_whose_tests_pass_exits_0_with_a_line_per_case()
    {
        var (exit, output) = await RunAsync(Bundle);

        Assert.Equal(PolicyTestCommand.Passed, exit);
        Assert.Contains("PASS dev-is-autonomous: allow [dev-allow]", output, StringComparison.Ordinal);
        Assert.Contains("PASS production-needs-approval: require-approval [prod-approval]", output, StringComparison.Ordinal);
        Assert.Contains("2 of 2 test(s) pass.", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_failing_case_prints_expected_against_actual_and_exits_1()
    {
        var (exit, output) = await RunAsync(Bundle.Replace("outcome: require-approval\n    approval: { count: 1, roles: [approver], expiry: 4h }", "outcome: allow", StringComparison.Ordinal));

        Assert.Equal(PolicyTestCommand.Failed, exit);
        Assert.Contains("PASS dev-is-autonomous", output, StringComparison.Ordinal);
        Assert.Contains("FAIL production-needs-approval: expected require-approval, got allow", output, StringComparison.Ordinal);
        Assert.Contains("1 of 2 test(s) fail.", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_invalid_bundle_exits_2_naming_each_error_with_its_path()
    {
        var (exit, output) = await RunAsync(Bundle.Replace("rules: [dev-allow]", "rules: [dev-alow]", StringComparison.Ordinal));

        Assert.Equal(PolicyTestCommand.Invalid, exit);
        Assert.Contains("is not a valid policy bundle (1 error(s))", output, StringComparison.Ordinal);
        Assert.Contains("$.tests[0].expect.rules: line 12", output, StringComparison.Ordinal);
        Assert.Contains("'dev-alow' is not a rule of this bundle", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_file_exits_2()
    {
        var (exit, output) = await RunFileAsync(Path.Combine(_directory, "absent.yaml"));

        Assert.Equal(PolicyTestCommand.Invalid, exit);
        Assert.Contains("Cannot read", output, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private async Task<(int, string)> RunAsync(string yaml)
    {
        var path = Path.Combine(_directory, "bundle.yaml");
        await File.WriteAllTextAsync(path, yaml);
        return await RunFileAsync(path);
    }

    private static async Task<(int, string)> RunFileAsync(string path)
    {
        var (console, writer) = CliRun.Capture();
        var root = new RootCommand("test") { PolicyCommand.Create(console) };
        var exit = await root.Parse(["policy", "test", path]).InvokeAsync();
        return (exit, writer.ToString());
    }
}

using System.Security.Cryptography;
using System.Text;
using ControlPlane.Contracts;
using ControlPlane.Runner.Actions;

namespace ControlPlane.Runner.Tests.Unit;

public sealed class CommandPlanTests
{
    private static readonly IReadOnlyDictionary<string, string?> Inherited = new Dictionary<string, string?>
    {
        ["PATH"] = "/usr/bin:/bin",
        ["Runner__ClientSecret"] = "s3cret",
        ["HOME"] = "/root",
    };

    private static WorkPackage Package(Dictionary<string, string> parameters) => Packages.New() with { Parameters = parameters };

    [Fact]
    public void Executable_arguments_and_directory_come_from_the_configuration_only()
    {
        var spec = new CommandSpec { Executable = "./restart.sh", Arguments = ["--graceful", "$(id)"], WorkingDirectory = "work" };

        var (start, refusal) = CommandPlan.Build(spec, "restart", Package(new() { ["command"] = "restart" }), "runner-a", "/state/ws", "/opt/runner", Inherited);

        Assert.Null(refusal);
        Assert.Equal("/opt/runner/restart.sh", start!.FileName);
        Assert.Equal(["--graceful", "$(id)"], start.ArgumentList);
        Assert.Equal("/opt/runner/work", start.WorkingDirectory);
        Assert.False(start.UseShellExecute);
        Assert.Equal(string.Empty, start.Arguments);
    }

    [Fact]
    public void A_bare_executable_name_is_left_to_path_lookup_and_the_default_directory_is_the_workspace()
    {
        var (start, _) = CommandPlan.Build(new CommandSpec { Executable = "env" }, "env", Package([]), "runner-a", "/state/ws", "/opt/runner", Inherited);

        Assert.Equal("env", start!.FileName);
        Assert.Equal("/state/ws", start.WorkingDirectory);
    }

    [Fact]
    public void Only_allowed_parameters_reach_the_process_as_cp_param_variables_and_the_runners_environment_does_not()
    {
        var spec = new CommandSpec { Executable = "env", AllowParameters = ["service", "max-wait"], Environment = new() { ["MODE"] = "safe" } };
        var package = Package(new() { ["command"] = "env", ["service"] = "billing; rm -rf /", ["max-wait"] = "30", ["secret"] = "x" });

        var (start, _) = CommandPlan.Build(spec, "env", package, "runner-a", "/state/ws", "/opt/runner", Inherited);
        var environment = start!.Environment;

        Assert.Equal("billing; rm -rf /", environment["CP_PARAM_SERVICE"]);
        Assert.Equal("30", environment["CP_PARAM_MAX_WAIT"]);
        Assert.False(environment.ContainsKey("CP_PARAM_SECRET"));
        Assert.False(environment.ContainsKey("CP_PARAM_COMMAND"));
        Assert.False(environment.ContainsKey("Runner__ClientSecret"));
        Assert.Equal("/usr/bin:/bin", environment["PATH"]);
        Assert.Equal("/state/ws", environment["HOME"]);
        Assert.Equal("safe", environment["MODE"]);
        Assert.Equal(package.WorkId.ToString(), environment["CP_WORK_ID"]);
        Assert.Equal("billing", environment["CP_TARGETS"]);
        Assert.Equal("execute", environment["CP_STEP"]);
    }

    [Fact]
    public void A_parameter_with_a_nul_character_is_refused()
    {
        var spec = new CommandSpec { Executable = "env", AllowParameters = ["service"] };

        var (start, refusal) = CommandPlan.Build(spec, "env", Package(new() { ["service"] = "a\0b" }), "runner-a", "/ws", "/opt", Inherited);

        Assert.Null(start);
        Assert.Equal("parameter 'service' holds a NUL character or exceeds 32 KiB", refusal);
    }
}

public sealed class OutputCaptureTests
{
    [Fact]
    public void The_digest_covers_everything_and_equals_the_excerpts_digest_when_nothing_was_cut()
    {
        using var capture = new OutputCapture();
        capture.Append("line one\n"u8);
        capture.Append("line two\n"u8);

        Assert.Equal("line one\nline two\n", capture.Excerpt());
        Assert.Equal(CanonicalJson.HashBytes(Encoding.UTF8.GetBytes(capture.Excerpt())), capture.Digest());
    }

    [Fact]
    public void Output_beyond_the_limit_is_cut_from_the_excerpt_but_not_from_the_digest()
    {
        using var capture = new OutputCapture(limit: 10);
        var all = Encoding.UTF8.GetBytes(new string('x', 25));
        capture.Append(all);

        Assert.Equal(new string('x', 10) + "\n[output truncated: 15 more bytes]", capture.Excerpt());
        Assert.Equal("sha256:" + Convert.ToHexStringLower(SHA256.HashData(all)), capture.Digest());
        Assert.Equal(25, capture.TotalBytes);
    }

    [Fact]
    public async Task Draining_a_stream_appends_all_of_it()
    {
        using var capture = new OutputCapture(limit: 4);
        await using var stream = new MemoryStream(Encoding.UTF8.GetBytes(new string('y', 20000)));

        await capture.DrainAsync(stream, CancellationToken.None);

        Assert.Equal(20000, capture.TotalBytes);
    }
}

public sealed class HttpCheckRulesTests
{
    private static readonly string[] Allowed = ["status.internal", "127.0.0.1:8080"];

    [Fact]
    public void A_url_on_an_allowed_host_with_defaults_passes()
    {
        var (request, refusal) = HttpCheckRules.Parse(new Dictionary<string, string> { ["url"] = "https://STATUS.internal/health" }, Allowed);

        Assert.Null(refusal);
        Assert.Equal(200, request!.ExpectedStatus);
        Assert.Equal(5000, request.MaxLatencyMs);
    }

    [Theory]
    [InlineData("http://evil.example/health", "host 'evil.example' is not allow-listed for http-check on this runner")]
    [InlineData("http://127.0.0.1:9090/", "host '127.0.0.1' is not allow-listed for http-check on this runner")]
    [InlineData("file:///etc/passwd", "url 'file:///etc/passwd' is not an absolute http or https URL")]
    [InlineData("http://user:pw@status.internal/", "url must not carry credentials")]
    [InlineData("/relative", "url '/relative' is not an absolute http or https URL")]
    public void Urls_outside_the_allow_list_are_refused(string url, string reason)
    {
        Assert.Equal(reason, HttpCheckRules.Parse(new Dictionary<string, string> { ["url"] = url }, Allowed).Refusal);
    }

    [Fact]
    public void Bad_numbers_are_refused_and_a_port_entry_allows_only_that_port()
    {
        Assert.Equal("expectedStatus 'ok' is not an HTTP status code",
            HttpCheckRules.Parse(new Dictionary<string, string> { ["url"] = "http://status.internal/", ["expectedStatus"] = "ok" }, Allowed).Refusal);
        Assert.Equal("maxLatencyMs '-5' is not between 1 and 600000",
            HttpCheckRules.Parse(new Dictionary<string, string> { ["url"] = "http://status.internal/", ["maxLatencyMs"] = "-5" }, Allowed).Refusal);
        Assert.Equal("http-check needs the parameter 'url'", HttpCheckRules.Parse(new Dictionary<string, string>(), Allowed).Refusal);
        Assert.True(HttpCheckRules.IsAllowed(new Uri("http://127.0.0.1:8080/x"), Allowed));
    }
}

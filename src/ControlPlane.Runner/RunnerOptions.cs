using Microsoft.Extensions.Configuration;

namespace ControlPlane.Runner;

/// <summary>The runner's configuration (section "Runner"). Only the actions configured here ever run.</summary>
public sealed class RunnerOptions
{
    public const string Section = "Runner";

    public string Id { get; set; } = string.Empty;

    public string Fleet { get; set; } = string.Empty;

    /// <summary>Where the runner keeps its key, seen nonces and fences, and unsent reports. Default: content root/.state/runner-{id}.</summary>
    public string? StateDirectory { get; set; }

    /// <summary>An optional JSON file with more Runner settings (the demo files); relative paths in it resolve against its folder.</summary>
    public string? ConfigFile { get; set; }

    /// <summary>Where relative executables and working directories resolve (default: the config file's folder, else the content root).</summary>
    public string? BaseDirectory { get; set; }

    /// <summary>Client credentials at identity's /connect/token (default client id: the runner id).</summary>
    public string? ClientId { get; set; }

    public string? ClientSecret { get; set; }

    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Tolerated clock difference with fleet for NotBefore / ExpiresAt.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    public int MaxConcurrentWork { get; set; } = 4;

    public ActionsOptions Actions { get; set; } = new();
}

public sealed class ActionsOptions
{
    [ConfigurationKeyName(RunCommandOptions.Kind)]
    public RunCommandOptions RunCommand { get; set; } = new();

    [ConfigurationKeyName(HttpCheckOptions.Kind)]
    public HttpCheckOptions HttpCheck { get; set; } = new();
}

/// <summary>run-command: the package names one of these commands; the command line itself never comes from the package.</summary>
public sealed class RunCommandOptions
{
    public const string Kind = "run-command";

    public Dictionary<string, CommandSpec> Commands { get; set; } = new(StringComparer.Ordinal);
}

public sealed class CommandSpec
{
    public string Executable { get; set; } = string.Empty;

    public List<string> Arguments { get; set; } = [];

    public string? WorkingDirectory { get; set; }

    public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(5);

    public Dictionary<string, string> Environment { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Package parameters passed through, as environment variables CP_PARAM_&lt;NAME&gt; only.</summary>
    public List<string> AllowParameters { get; set; } = [];
}

/// <summary>http-check: GET a URL whose host is allow-listed and compare status and latency.</summary>
public sealed class HttpCheckOptions
{
    public const string Kind = "http-check";

    public bool Enabled { get; set; }

    public List<string> AllowedHosts { get; set; } = [];
}

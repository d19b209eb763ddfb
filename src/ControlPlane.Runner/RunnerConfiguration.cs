using System.Text.RegularExpressions;

namespace ControlPlane.Runner;

/// <summary>Loads, completes and checks the runner's configuration; a runner that is misconfigured does not start.</summary>
public static partial class RunnerConfiguration
{
    /// <summary>
    /// Adds Runner:ConfigFile (e.g. demo/runner.testing.json) to the configuration. Environment variables and the
    /// command line are added again after it, so they still win; the file's folder becomes the base directory.
    /// </summary>
    public static void AddRunnerConfigFile(this WebApplicationBuilder builder, string[] args)
    {
        if (builder.Configuration[$"{RunnerOptions.Section}:{nameof(RunnerOptions.ConfigFile)}"] is not { Length: > 0 } file)
        {
            return;
        }

        var path = Path.GetFullPath(file);
        if (!File.Exists(path))
        {
            throw new InvalidOperationException($"Runner:ConfigFile names {path}, which does not exist. A relative path resolves " +
                "against the working directory (the project folder under `dotnet run`); pass an absolute path to be sure.");
        }

        builder.Configuration.AddJsonFile(path, optional: false, reloadOnChange: false);
        builder.Configuration.AddEnvironmentVariables();
        builder.Configuration.AddCommandLine(args);
        var baseKey = $"{RunnerOptions.Section}:{nameof(RunnerOptions.BaseDirectory)}";
        if (string.IsNullOrEmpty(builder.Configuration[baseKey]))
        {
            builder.Configuration.AddInMemoryCollection([new(baseKey, Path.GetDirectoryName(path))]);
        }
    }

    public static RunnerOptions Load(IConfiguration configuration, string contentRoot)
    {
        var section = configuration.GetSection(RunnerOptions.Section);
        var options = section.Get<RunnerOptions>() ?? new RunnerOptions();
        options.ClientId = string.IsNullOrEmpty(options.ClientId) ? options.Id : options.ClientId;
        options.BaseDirectory = Path.GetFullPath(string.IsNullOrEmpty(options.BaseDirectory) ? contentRoot : options.BaseDirectory, contentRoot);
        options.StateDirectory = Path.GetFullPath(
            string.IsNullOrEmpty(options.StateDirectory) ? Path.Combine(".state", "runner-" + options.Id) : options.StateDirectory, contentRoot);

        var problems = Validate(options, section.GetSection(nameof(RunnerOptions.Actions)).GetChildren().Select(c => c.Key));
        if (problems.Count > 0)
        {
            throw new InvalidOperationException("The runner's configuration is not usable:" + Environment.NewLine + "- " +
                string.Join(Environment.NewLine + "- ", problems));
        }

        return options;
    }

    /// <summary>
    /// What the runner registers as capabilities: the action kinds it has handlers for, and for run-command each
    /// allow-listed command as "run-command:&lt;name&gt;", so the plane can tell which proposals it can execute.
    /// </summary>
    public static IReadOnlyList<string> Capabilities(RunnerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var kinds = new List<string>();
        if (options.Actions.RunCommand.Commands.Count > 0)
        {
            kinds.Add(RunCommandOptions.Kind);
            kinds.AddRange(options.Actions.RunCommand.Commands.Keys.Order(StringComparer.Ordinal).Select(c => $"{RunCommandOptions.Kind}:{c}"));
        }

        if (options.Actions.HttpCheck.Enabled)
        {
            kinds.Add(HttpCheckOptions.Kind);
        }

        return kinds;
    }

    public static IReadOnlyList<string> Validate(RunnerOptions options, IEnumerable<string> configuredActionKinds)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new List<string>();
        if (!RunnerIdPattern().IsMatch(options.Id))
        {
            problems.Add("Runner:Id must be 1-100 letters, digits, '.', '_', '-' or '@' (it is the runner's principal id at identity).");
        }

        if (string.IsNullOrWhiteSpace(options.Fleet))
        {
            problems.Add("Runner:Fleet is required (testing, remediation or observe).");
        }

        if (string.IsNullOrEmpty(options.ClientSecret))
        {
            problems.Add("Runner:ClientSecret is required: the runner authenticates to identity with client credentials.");
        }

        if (options.HeartbeatInterval <= TimeSpan.Zero || options.ClockSkew < TimeSpan.Zero || options.MaxConcurrentWork is < 1 or > 64)
        {
            problems.Add("Runner:HeartbeatInterval must be positive, Runner:ClockSkew not negative, Runner:MaxConcurrentWork 1-64.");
        }

        foreach (var kind in configuredActionKinds.Where(k => k is not (RunCommandOptions.Kind or HttpCheckOptions.Kind)))
        {
            problems.Add($"Runner:Actions:{kind}: this runner has no handler for '{kind}' (it knows {RunCommandOptions.Kind} and {HttpCheckOptions.Kind}).");
        }

        if (Capabilities(options).Count == 0)
        {
            problems.Add($"No action is configured: add commands under Runner:Actions:{RunCommandOptions.Kind}:Commands or set Runner:Actions:{HttpCheckOptions.Kind}:Enabled.");
        }

        foreach (var (name, spec) in options.Actions.RunCommand.Commands)
        {
            var where = $"Runner:Actions:{RunCommandOptions.Kind}:Commands:{name}";
            if (!CommandNamePattern().IsMatch(name))
            {
                problems.Add($"{where}: a command name is lowercase letters, digits, '.', '_' or '-'.");
            }

            if (string.IsNullOrWhiteSpace(spec.Executable))
            {
                problems.Add($"{where}:Executable is required.");
            }

            if (spec.Timeout <= TimeSpan.Zero)
            {
                problems.Add($"{where}:Timeout must be positive.");
            }

            foreach (var parameter in spec.AllowParameters.Where(p => !ParameterPattern().IsMatch(p)))
            {
                problems.Add($"{where}:AllowParameters: '{parameter}' is not a parameter name (a letter, then letters, digits, '_' or '-').");
            }

            foreach (var variable in spec.Environment.Keys.Where(k => !EnvironmentNamePattern().IsMatch(k)))
            {
                problems.Add($"{where}:Environment: '{variable}' is not an environment variable name.");
            }
        }

        if (options.Actions.HttpCheck.Enabled && options.Actions.HttpCheck.AllowedHosts.Any(string.IsNullOrWhiteSpace))
        {
            problems.Add($"Runner:Actions:{HttpCheckOptions.Kind}:AllowedHosts has an empty entry.");
        }

        return problems;
    }

    [GeneratedRegex("^[A-Za-z0-9._@-]{1,100}$")]
    private static partial Regex RunnerIdPattern();

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,63}$")]
    private static partial Regex CommandNamePattern();

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_-]{0,63}$")]
    private static partial Regex ParameterPattern();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,127}$")]
    private static partial Regex EnvironmentNamePattern();
}

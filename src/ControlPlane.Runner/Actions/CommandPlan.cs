using System.Diagnostics;
using ControlPlane.Contracts;

namespace ControlPlane.Runner.Actions;

/// <summary>
/// How an allow-listed command is started for a package. Pure: the executable, its arguments, working directory
/// and base environment come only from the runner's configuration; the package chooses the command by name and
/// may add the parameters that command allows, as environment variables CP_PARAM_&lt;NAME&gt; and nothing else, and its
/// target credential as CP_TARGET_CREDENTIAL.
/// The process never goes through a shell and never inherits the runner's own environment (its secrets).
/// </summary>
public static class CommandPlan
{
    public const string CommandParameter = "command";
    public const string ParameterPrefix = "CP_PARAM_";

    /// <summary>The package's target credential (a JWS for the package's targets), when it carries one.</summary>
    public const string CredentialVariable = "CP_TARGET_CREDENTIAL";

    /// <summary>The variables every command sees besides its own: who asked for what.</summary>
    public static IReadOnlyDictionary<string, string> ContextVariables(WorkPackage package, string runnerId, string workspace, string commandName)
    {
        ArgumentNullException.ThrowIfNull(package);
        return new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["CP_WORK_ID"] = package.WorkId.ToString(),
            ["CP_PROPOSAL_ID"] = package.ProposalId.ToString(),
            ["CP_STEP"] = package.Step.ToString().ToLowerInvariant(),
            ["CP_ACTION"] = package.ActionKind,
            ["CP_COMMAND"] = commandName,
            ["CP_ENVIRONMENT"] = package.Environment,
            ["CP_TARGETS"] = string.Join(',', package.Targets ?? []),
            ["CP_RUNNER_ID"] = runnerId,
            ["CP_STATE_DIR"] = workspace,
        };
    }

    public static string VariableFor(string parameter) => ParameterPrefix + parameter.ToUpperInvariant().Replace('-', '_');

    /// <summary>The process to start, or the reason the package may not start it.</summary>
    public static (ProcessStartInfo? Start, string? Refusal) Build(
        CommandSpec spec, string commandName, WorkPackage package, string runnerId, string workspace, string baseDirectory,
        IReadOnlyDictionary<string, string?> inheritedVariables, string? credential = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(package);
        ArgumentNullException.ThrowIfNull(inheritedVariables);
        var start = new ProcessStartInfo
        {
            FileName = ResolvePath(spec.Executable, baseDirectory, isExecutable: true),
            WorkingDirectory = spec.WorkingDirectory is { Length: > 0 } wd ? ResolvePath(wd, baseDirectory, isExecutable: false) : workspace,
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            CreateNoWindow = true,
        };
        foreach (var argument in spec.Arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment.Clear();
        foreach (var name in (string[])["PATH", "LANG", "TZ", "SYSTEMROOT"])
        {
            if (inheritedVariables.TryGetValue(name, out var value) && value is not null)
            {
                start.Environment[name] = value;
            }
        }

        start.Environment["HOME"] = workspace;
        foreach (var (name, value) in spec.Environment)
        {
            start.Environment[name] = value;
        }

        foreach (var (name, value) in ContextVariables(package, runnerId, workspace, commandName))
        {
            start.Environment[name] = value;
        }

        var parameters = package.Parameters ?? new Dictionary<string, string>();
        foreach (var allowed in spec.AllowParameters)
        {
            if (!parameters.TryGetValue(allowed, out var value) || value is null)
            {
                continue;
            }

            if (value.Contains('\0', StringComparison.Ordinal) || value.Length > 32 * 1024)
            {
                return (null, $"parameter '{allowed}' holds a NUL character or exceeds 32 KiB");
            }

            start.Environment[VariableFor(allowed)] = value;
        }

        // Last, so no configured variable or parameter can shadow it; never an argument (visible in the process list).
        if (credential is not null)
        {
            start.Environment[CredentialVariable] = credential;
        }

        return (start, null);
    }

    /// <summary>A bare executable name is looked up on PATH; a relative path resolves against the base directory.</summary>
    private static string ResolvePath(string path, string baseDirectory, bool isExecutable)
    {
        if (Path.IsPathRooted(path) || (isExecutable && path.IndexOfAny(['/', '\\']) < 0))
        {
            return path;
        }

        return Path.GetFullPath(path, baseDirectory);
    }
}

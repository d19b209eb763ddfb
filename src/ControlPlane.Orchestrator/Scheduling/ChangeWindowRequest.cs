using System.Text.RegularExpressions;
using ControlPlane.Contracts;

namespace ControlPlane.Orchestrator.Scheduling;

/// <summary>Scope of a POST/PUT /schedule/windows body; an omitted list means "*" (any), an empty one is refused.</summary>
public sealed record ChangeWindowScopeRequest(List<string>? Environments, List<string>? Nodes, List<string>? Teams);

/// <summary>Body of POST /schedule/windows and PUT /schedule/windows/{id}; TimeZone defaults to UTC.</summary>
public sealed partial record ChangeWindowRequest(
    string? Name,
    string? Kind,
    string? Schedule,
    string? Duration,
    string? TimeZone,
    ChangeWindowScopeRequest? Scope,
    bool? ExtendsToDependents,
    string? Description)
{
    private const int MaxValues = 100;

    /// <summary>The field errors (RFC 9457 "errors", keyed by the JSON path of the field); empty when the request is valid.</summary>
    public Dictionary<string, string[]> Validate(IReadOnlyCollection<string> environments)
    {
        ArgumentNullException.ThrowIfNull(environments);
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (string.IsNullOrWhiteSpace(Name) || Name.Length > 100)
        {
            errors["name"] = ["Required, at most 100 characters: people read it in every hold it causes."];
        }

        if (Kind is not (ChangeWindowKinds.Allow or ChangeWindowKinds.Deny))
        {
            errors["kind"] = ["Must be 'allow' or 'deny'."];
        }

        if (!CompiledWindow.TryParseCron(Schedule, out _))
        {
            errors["schedule"] = ["A 5-field cron expression (minute hour day-of-month month day-of-week), e.g. '0 18 * * 5'."];
        }

        if (!CompiledWindow.TryParseDuration(Duration, out _))
        {
            errors["duration"] = ["A positive duration of at most 366d, written as days, hours, minutes, seconds: '64h', '1h30m', '2d', '45s'."];
        }

        if (TimeZone is not null && !CompiledWindow.TryFindZone(TimeZone, out _))
        {
            errors["timeZone"] = [$"'{TimeZone}' is not an IANA time zone id (e.g. 'Europe/Berlin', 'America/New_York', 'UTC')."];
        }

        if (Description is { Length: > 500 })
        {
            errors["description"] = ["At most 500 characters."];
        }

        ValidateScope(environments, errors);
        return errors;
    }

    private void ValidateScope(IReadOnlyCollection<string> environments, Dictionary<string, string[]> errors)
    {
        if (Scope is null || (Scope.Environments is null && Scope.Nodes is null && Scope.Teams is null))
        {
            errors["scope"] = ["Required: name at least one of environments, nodes, teams (\"*\" for any)."];
            return;
        }

        foreach (var (field, values) in new[] { ("environments", Scope.Environments), ("nodes", Scope.Nodes), ("teams", Scope.Teams) })
        {
            if (values is null)
            {
                continue;
            }

            if (values.Count is 0 or > MaxValues)
            {
                errors[$"scope.{field}"] = [$"Name 1 to {MaxValues} values, or \"*\" for any; leave the list out to mean any."];
            }
            else if (values.FirstOrDefault(v => v != "*" && (v is null || !NamePattern().IsMatch(v))) is { } bad)
            {
                errors[$"scope.{field}"] = [$"'{bad}' is not a name: 1-128 letters, digits, '.', '_', '-' or '/', or \"*\"."];
            }
            else if (field == "environments" && values.FirstOrDefault(v => v != "*" && !environments.Contains(v)) is { } unknown)
            {
                errors["scope.environments"] = [$"Unknown environment '{unknown}'; expected one of: {string.Join(", ", environments)}, or \"*\"."];
            }
        }
    }

    /// <summary>The window this (valid) request describes.</summary>
    public ChangeWindow ToWindow(Guid id, string createdBy, DateTimeOffset createdAt, string? updatedBy = null, DateTimeOffset? updatedAt = null) => new(
        id, Name!.Trim(), Kind!, string.Join(' ', Schedule!.Split(' ', StringSplitOptions.RemoveEmptyEntries)), Duration!, TimeZone ?? "UTC",
        new ChangeWindowScope(Scope!.Environments ?? ["*"], Scope.Nodes ?? ["*"], Scope.Teams ?? ["*"]),
        ExtendsToDependents ?? false, string.IsNullOrWhiteSpace(Description) ? null : Description, createdBy, createdAt, updatedBy, updatedAt);

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$")]
    private static partial Regex NamePattern();
}

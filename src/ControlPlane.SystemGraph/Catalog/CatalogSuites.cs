using System.Globalization;
using System.Text.RegularExpressions;
using ControlPlane.Contracts;
using ControlPlane.SystemGraph.Graph;

namespace ControlPlane.SystemGraph.Catalog;

/// <summary>
/// Reads the controlplane.io/validation-suites annotation: entries separated by ';', each
/// "name: fleet, duration[, verify], what it covers" (duration "90s", "2m" or seconds; the stage is validate unless
/// "verify" or "validate" is said). Covers may hold commas, not semicolons. Errors go through the same checks as
/// the API's, reported at the annotation's line.
/// </summary>
public static partial class CatalogSuites
{
    public static List<ValidationSuite> Read(BackstageEntity entity, List<CatalogProblem> problems)
    {
        ArgumentNullException.ThrowIfNull(entity);
        ArgumentNullException.ThrowIfNull(problems);
        if (!entity.Annotations.TryGetValue(BackstageMapper.ValidationSuitesAnnotation, out var value))
        {
            return [];
        }

        var bodies = new List<SuiteBody?>();
        foreach (var entry in value.Value.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (Parse(entry) is { } body)
            {
                bodies.Add(body);
            }
            else
            {
                problems.Add(BackstageMapper.Problem(entity, value.Line, BackstageMapper.ValidationSuitesAnnotation,
                    $"'{entry}' is not 'name: fleet, duration[, verify], what it covers' (e.g. 'billing-api-contract: testing, 120s, the billing API contract')."));
            }
        }

        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var suites = GraphValidation.ToSuites(bodies, "suites", errors);
        problems.AddRange(errors.SelectMany(e => e.Value.Select(m =>
            BackstageMapper.Problem(entity, value.Line, BackstageMapper.ValidationSuitesAnnotation, $"{e.Key}: {m}"))));
        return suites;
    }

    private static SuiteBody? Parse(string entry)
    {
        var colon = entry.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            return null;
        }

        var parts = entry[(colon + 1)..].Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length < 3 || Seconds(parts[1]) is not { } seconds)
        {
            return null;
        }

        var stage = parts[2] is GraphValidation.VerifyStage or GraphValidation.ValidateStage ? parts[2] : null;
        var covers = string.Join(", ", parts.Skip(stage is null ? 2 : 3));
        return new SuiteBody(entry[..colon].Trim(), parts[0], covers, seconds, stage);
    }

    private static int? Seconds(string text)
    {
        var match = DurationPattern().Match(text);
        if (!match.Success || !int.TryParse(match.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
        {
            return null;
        }

        return match.Groups[2].Value == "m" ? value * 60 : value;
    }

    [GeneratedRegex("^([0-9]{1,5})(s|m)?$", RegexOptions.CultureInvariant)]
    private static partial Regex DurationPattern();
}

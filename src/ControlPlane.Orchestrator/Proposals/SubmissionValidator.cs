using System.Text.RegularExpressions;
using ControlPlane.Contracts;

namespace ControlPlane.Orchestrator.Proposals;

/// <summary>
/// Checks a submission field by field (HTTP and bus alike) and names every bad field, in the shape of
/// RFC 9457 validation problems ("action.kind", "targets[2]"). Returns the normalized proposal when valid.
/// </summary>
public sealed partial class SubmissionValidator(IReadOnlyCollection<string> environments)
{
    public const int MaxTargets = 50;
    public const int MaxParameters = 32;

    public IReadOnlyCollection<string> Environments { get; } = environments;

    public SubmissionCheck Validate(SubmitProposal? body)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (body is null)
        {
            errors["body"] = ["A JSON body with idempotencyKey, action, targets, environment and change is required."];
            return new SubmissionCheck(null, errors);
        }

        Check(errors, "idempotencyKey", body.IdempotencyKey, 1, 128, IdempotencyKeyPattern(),
            "letters, digits and . _ : - only");
        var parameters = ValidateAction(errors, body.Action);
        ValidateTargets(errors, body.Targets);
        if (string.IsNullOrWhiteSpace(body.Environment))
        {
            errors["environment"] = ["Required."];
        }
        else if (!Environments.Contains(body.Environment))
        {
            errors["environment"] = [$"Unknown environment '{Truncate(body.Environment)}'; expected one of: {string.Join(", ", Environments)}."];
        }

        ValidateChange(errors, body.Change);
        if (errors.Count > 0)
        {
            return new SubmissionCheck(null, errors);
        }

        var change = body.Change with { RollbackPlan = string.IsNullOrWhiteSpace(body.Change.RollbackPlan) ? null : body.Change.RollbackPlan };
        return new SubmissionCheck(body with { Action = body.Action with { Parameters = parameters }, Change = change, Targets = [.. body.Targets] }, errors);
    }

    private static IReadOnlyDictionary<string, string> ValidateAction(Dictionary<string, string[]> errors, ProposedAction? action)
    {
        if (action is null)
        {
            errors["action"] = ["Required: {kind, summary, parameters}."];
            return new Dictionary<string, string>();
        }

        Check(errors, "action.kind", action.Kind, 1, 64, SlugPattern(), "a lowercase slug such as 'restart' or 'config-change'");
        Check(errors, "action.summary", action.Summary, 1, 500, null, null);
        var parameters = action.Parameters ?? new Dictionary<string, string>();
        if (parameters.Count > MaxParameters)
        {
            errors["action.parameters"] = [$"At most {MaxParameters} parameters."];
        }

        foreach (var (key, value) in parameters)
        {
            if (!ParameterNamePattern().IsMatch(key))
            {
                errors[$"action.parameters.{Truncate(key)}"] = ["Parameter names are 1-64 letters, digits, '_', '.', or '-', starting with a letter."];
            }
            else if (value is null || value.Length > 2048)
            {
                errors[$"action.parameters.{key}"] = ["A parameter value is a string of at most 2048 characters."];
            }
        }

        return new SortedDictionary<string, string>(parameters.ToDictionary(), StringComparer.Ordinal);
    }

    private static void ValidateTargets(Dictionary<string, string[]> errors, IReadOnlyList<string>? targets)
    {
        if (targets is null || targets.Count == 0)
        {
            errors["targets"] = ["At least one system-graph node id is required."];
            return;
        }

        if (targets.Count > MaxTargets)
        {
            errors["targets"] = [$"At most {MaxTargets} targets."];
            return;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < targets.Count; i++)
        {
            var target = targets[i];
            if (string.IsNullOrEmpty(target) || target.Length > 128 || !NodeIdPattern().IsMatch(target))
            {
                errors[$"targets[{i}]"] = ["A node id is 1-128 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit."];
            }
            else if (!seen.Add(target))
            {
                errors[$"targets[{i}]"] = [$"'{target}' is listed twice."];
            }
        }
    }

    private static void ValidateChange(Dictionary<string, string[]> errors, ChangeReference? change)
    {
        if (change is null)
        {
            errors["change"] = ["Required: {digest, reference, rollbackPlan}."];
            return;
        }

        Check(errors, "change.digest", change.Digest, 3, 200, DigestPattern(), "algorithm:hex, for example sha256:3f2a…");
        Check(errors, "change.reference", change.Reference, 1, 500, null, null);
        if (change.RollbackPlan is { Length: > 4000 })
        {
            errors["change.rollbackPlan"] = ["At most 4000 characters."];
        }

        // Optional, together: the source commit that gets a GitHub commit status as the proposal moves on.
        if (change.Repository is not null || change.Commit is not null)
        {
            Check(errors, "change.repository", change.Repository, 3, 140, RepositoryPattern(), "owner/name, as GitHub spells it");
            Check(errors, "change.commit", change.Commit, 40, 64, CommitPattern(), "the full commit SHA (40 or 64 lowercase hex digits)");
        }
    }

    private static void Check(Dictionary<string, string[]> errors, string field, string? value, int min, int max, Regex? pattern, string? expected)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            errors[field] = ["Required."];
        }
        else if (value.Length < min || value.Length > max)
        {
            errors[field] = [$"Must be {min}-{max} characters."];
        }
        else if (pattern is not null && !pattern.IsMatch(value))
        {
            errors[field] = [$"Must be {expected}."];
        }
    }

    private static string Truncate(string value) => value.Length <= 40 ? value : value[..40] + "…";

    [GeneratedRegex("^[A-Za-z0-9._:-]+$")]
    private static partial Regex IdempotencyKeyPattern();

    [GeneratedRegex("^[a-z][a-z0-9-]*$")]
    private static partial Regex SlugPattern();

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_.-]{0,63}$")]
    private static partial Regex ParameterNamePattern();

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]*$")]
    private static partial Regex NodeIdPattern();

    [GeneratedRegex("^[a-z0-9-]+:[A-Fa-f0-9]+$")]
    private static partial Regex DigestPattern();

    [GeneratedRegex("^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")]
    private static partial Regex RepositoryPattern();

    [GeneratedRegex("^(?:[0-9a-f]{40}|[0-9a-f]{64})$")]
    private static partial Regex CommitPattern();
}

/// <summary>The verdict: the normalized proposal, or the errors by field.</summary>
public sealed record SubmissionCheck(SubmitProposal? Proposal, IReadOnlyDictionary<string, string[]> Errors)
{
    public bool IsValid => Proposal is not null;
}

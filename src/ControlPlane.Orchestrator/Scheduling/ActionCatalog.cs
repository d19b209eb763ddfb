using System.Text;
using ControlPlane.Contracts;
using ControlPlane.Orchestrator.Proposals;

namespace ControlPlane.Orchestrator.Scheduling;

/// <summary>A runner action with its fleet and parameter templates.</summary>
public class StepMapping
{
    public string? ActionKind { get; set; }

    public string? Fleet { get; set; }

    public Dictionary<string, string> Parameters { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>How one proposal action kind executes, and how it is undone.</summary>
public sealed class ActionMapping : StepMapping
{
    public StepMapping? Rollback { get; set; }
}

/// <summary>A rendered step: what fleet gets in WorkRequested.</summary>
public sealed record RenderedStep(string ActionKind, string Fleet, IReadOnlyDictionary<string, string> Parameters);

/// <summary>
/// Maps a proposal to runner work. Runners never see the agent's parameters directly: only the operator's
/// templates, whose placeholders may pull in {parameters.name}, {targets} (comma-separated), {target} (exactly one
/// target), {environment}, {proposalId}, {actionKind}, {change.digest} and {change.reference}. A placeholder that cannot be filled makes the mapping fail (the proposal fails, nothing runs).
/// </summary>
public sealed class ActionCatalog(OrchestratorOptions options)
{
    public const string RollbackPlanParameter = "rollbackPlan";
    public const string FleetParameter = "fleet";
    public const string CommandParameter = "command";

    /// <summary>
    /// The catalog as routes other services can reason about: which fleet, runner action and (when fixed by the
    /// template) command each proposal kind becomes.
    /// </summary>
    public IReadOnlyList<ActionRoute> Routes() =>
    [
        .. options.Actions
            .Where(a => !string.IsNullOrWhiteSpace(a.Value.ActionKind))
            .OrderBy(a => a.Key, StringComparer.Ordinal)
            .Select(a => new ActionRoute(a.Key, a.Value.Fleet ?? "remediation", a.Value.ActionKind!,
                a.Value.Parameters.TryGetValue(CommandParameter, out var command) && !command.Contains('{', StringComparison.Ordinal) ? command : null)),
    ];

    public bool TryExecution(ProposalRecord proposal, out RenderedStep? step, out string? error)
    {
        ArgumentNullException.ThrowIfNull(proposal);
        step = null;
        if (!options.Actions.TryGetValue(proposal.Action.Kind, out var mapping) || string.IsNullOrWhiteSpace(mapping.ActionKind))
        {
            error = $"no runner action is configured for action kind '{proposal.Action.Kind}' (Orchestrator:Actions:{proposal.Action.Kind})";
            return false;
        }

        return TryRender(proposal, mapping.ActionKind, mapping.Fleet ?? "remediation", mapping.Parameters, null, out step, out error);
    }

    public bool TryRollback(ProposalRecord proposal, out RenderedStep? step, out string? error)
    {
        ArgumentNullException.ThrowIfNull(proposal);
        options.Actions.TryGetValue(proposal.Action.Kind, out var mapping);
        var rollback = mapping?.Rollback ?? options.Rollback;
        var extra = new Dictionary<string, string>(StringComparer.Ordinal) { [RollbackPlanParameter] = proposal.Change.RollbackPlan ?? string.Empty };
        return TryRender(proposal, rollback.ActionKind ?? mapping?.ActionKind ?? "run-command", rollback.Fleet ?? mapping?.Fleet ?? "remediation",
            rollback.Parameters, extra, out step, out error);
    }

    /// <summary>Validation or verification: the policy's step as is, its "fleet" parameter choosing the fleet.</summary>
    public RenderedStep Check(StepRequirement requirement, WorkStep step)
    {
        ArgumentNullException.ThrowIfNull(requirement);
        var parameters = new Dictionary<string, string>(requirement.Parameters ?? new Dictionary<string, string>(), StringComparer.Ordinal);
        var fleet = parameters.Remove(FleetParameter, out var named) && !string.IsNullOrWhiteSpace(named)
            ? named
            : step == WorkStep.Validate ? options.Steps.ValidateFleet : options.Steps.VerifyFleet;
        return new RenderedStep(requirement.ActionKind, fleet, parameters);
    }

    private static bool TryRender(ProposalRecord proposal, string actionKind, string fleet, IReadOnlyDictionary<string, string> templates,
        IReadOnlyDictionary<string, string>? extra, out RenderedStep? step, out string? error)
    {
        var rendered = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, template) in templates)
        {
            if (!TryFill(template, proposal, out var value, out error))
            {
                step = null;
                error = $"parameter '{name}' of '{actionKind}': {error}";
                return false;
            }

            rendered[name] = value;
        }

        foreach (var (name, value) in extra ?? new Dictionary<string, string>())
        {
            rendered[name] = value;
        }

        step = new RenderedStep(actionKind, fleet, rendered);
        error = null;
        return true;
    }

    public static bool TryFill(string template, ProposalRecord proposal, out string value, out string? error)
    {
        ArgumentNullException.ThrowIfNull(template);
        ArgumentNullException.ThrowIfNull(proposal);
        var builder = new StringBuilder(template.Length);
        var at = 0;
        while (at < template.Length)
        {
            var open = template.IndexOf('{', at);
            if (open < 0)
            {
                builder.Append(template, at, template.Length - at);
                break;
            }

            var close = template.IndexOf('}', open + 1);
            if (close < 0)
            {
                value = string.Empty;
                error = "unclosed '{' in template";
                return false;
            }

            builder.Append(template, at, open - at);
            var name = template[(open + 1)..close];
            string? filled = name switch
            {
                "targets" => string.Join(",", proposal.Targets),
                "target" => proposal.Targets.Count == 1 ? proposal.Targets[0] : null,
                "environment" => proposal.Environment,
                "proposalId" => proposal.Id.ToString(),
                "actionKind" => proposal.Action.Kind,
                "change.digest" => proposal.Change.Digest,
                "change.reference" => proposal.Change.Reference,
                _ when name.StartsWith("parameters.", StringComparison.Ordinal) =>
                    proposal.Action.Parameters.TryGetValue(name["parameters.".Length..], out var p) ? p : null,
                _ => null,
            };
            if (filled is null)
            {
                value = string.Empty;
                error = name == "target" ? "{target} needs exactly one target" : $"the proposal has no value for {{{name}}}";
                return false;
            }

            builder.Append(filled);
            at = close + 1;
        }

        value = builder.ToString();
        error = null;
        return true;
    }
}

using System.Text.RegularExpressions;
using ControlPlane.Contracts;
using ControlPlane.ServiceDefaults.Security;

namespace ControlPlane.Identity.Principals;

/// <summary>The body of POST /agents. Fields are nullable so a missing one is a 400 naming it, not a binder error.</summary>
public sealed record AgentRegistration(
    string? Id,
    string? Name,
    string? Sponsor,
    string? Fleet,
    IReadOnlyList<string>? Environments,
    IReadOnlyList<string>? ActionKinds,
    IReadOnlyList<string>? Bindings);

/// <summary>What makes an agent registration, and an agent's binding, acceptable. Pure: tested without servers.</summary>
public static partial class AgentRules
{
    public const int MaxListItems = 50;

    /// <summary>An agent registered without bindings may propose: that is what agents are for.</summary>
    public static readonly IReadOnlyList<string> DefaultBindings = [Roles.Proposer];

    /// <summary>
    /// Roles a fleet-admin may give an agent at registration. Anything else is an admin's decision through the
    /// bindings API, so agents:write cannot be used to mint a more powerful identity.
    /// </summary>
    public static readonly IReadOnlySet<string> RegistrationRoles = new HashSet<string>(StringComparer.Ordinal) { Roles.Proposer, Roles.Runner };

    /// <summary>Names of agents, fleets, environments and action kinds: lowercase, digits, '.', '_' and '-'.</summary>
    public static bool IsName(string? value) => value is not null && NamePattern().IsMatch(value);

    /// <summary>Field → problems, empty when the registration is acceptable (the sponsor's existence is checked by the writer).</summary>
    public static Dictionary<string, string[]> Validate(AgentRegistration registration)
    {
        ArgumentNullException.ThrowIfNull(registration);
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (!IsName(registration.Id))
        {
            errors["id"] = ["Required: 1-63 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit."];
        }

        if (string.IsNullOrWhiteSpace(registration.Name) || registration.Name.Length > 200)
        {
            errors["name"] = ["Required: a display name of at most 200 characters."];
        }

        if (string.IsNullOrWhiteSpace(registration.Sponsor))
        {
            errors["sponsor"] = ["Required: the id of the active human who answers for this agent."];
        }

        if (!IsName(registration.Fleet))
        {
            errors["fleet"] = ["Required: the fleet the agent belongs to (a name such as 'remediation')."];
        }

        CheckNames(errors, "environments", registration.Environments);
        CheckNames(errors, "actionKinds", registration.ActionKinds);

        var bindingErrors = new List<string>();
        foreach (var text in registration.Bindings ?? [])
        {
            if (!RoleBinding.TryParse(text, out var binding))
            {
                bindingErrors.Add($"'{text}' is not a role binding (role, or role@environment:x, role@node:x, role@team:x).");
            }
            else if (!RegistrationRoles.Contains(binding.Role))
            {
                bindingErrors.Add($"'{text}': at registration an agent may get only {string.Join(" or ", RegistrationRoles.Order(StringComparer.Ordinal))}; an admin grants other roles through /principals/{{id}}/bindings.");
            }
        }

        if (bindingErrors.Count > 0)
        {
            errors["bindings"] = [.. bindingErrors];
        }

        return errors;
    }

    /// <summary>Why an agent may never hold this binding, or null. Agents propose; only named humans approve.</summary>
    public static string? RefusalForAgent(RoleBinding binding)
    {
        ArgumentNullException.ThrowIfNull(binding);
        return Permissions.Grants(binding.Role, Permissions.ProposalsApprove)
            ? $"An agent can never hold '{binding}': the role grants approval, and only humans approve."
            : null;
    }

    private static void CheckNames(Dictionary<string, string[]> errors, string field, IReadOnlyList<string>? values)
    {
        if (values is null || values.Count == 0 || values.Count > MaxListItems)
        {
            errors[field] = [$"Required: 1 to {MaxListItems} names."];
            return;
        }

        var bad = values.Where(v => !IsName(v)).Select(v => $"'{v}' is not a name (a-z, 0-9, '.', '_', '-').").ToArray();
        if (bad.Length > 0)
        {
            errors[field] = bad;
        }
        else if (values.Distinct(StringComparer.Ordinal).Count() != values.Count)
        {
            errors[field] = ["Names must not repeat."];
        }
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,62}$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();
}

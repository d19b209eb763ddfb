using ControlPlane.ServiceDefaults.Security;

namespace ControlPlane.Identity.ExternalIdp;

/// <summary>
/// IdP group → role bindings (Identity:ExternalIdp:GroupBindings). Checked when built, so a typo in a binding
/// fails the start instead of silently granting nothing. Group names match exactly (case-sensitive).
/// </summary>
public sealed class GroupBindingMap
{
    private readonly Dictionary<string, string[]> _bindings;

    public GroupBindingMap(IReadOnlyDictionary<string, IReadOnlyList<string>> bindings)
    {
        ArgumentNullException.ThrowIfNull(bindings);
        _bindings = new Dictionary<string, string[]>(StringComparer.Ordinal);
        foreach (var (group, texts) in bindings)
        {
            _bindings[group] = [.. texts.Select(text => RoleBinding.TryParse(text, out var binding)
                ? binding.ToString()
                : throw new InvalidOperationException(
                    $"Identity:ExternalIdp:GroupBindings:{group} holds '{text}', which is not a role binding (role, or role@environment:x, role@node:x, role@team:x)."))];
        }
    }

    public int Count => _bindings.Count;

    /// <summary>The bindings the groups grant: sorted, without repeats; unknown groups grant nothing.</summary>
    public IReadOnlyList<string> Map(IEnumerable<string> groups)
    {
        ArgumentNullException.ThrowIfNull(groups);
        return groups
            .SelectMany(g => _bindings.TryGetValue(g, out var granted) ? granted : [])
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>
    /// Reads the map from configuration: each child of the section is a group whose value is one binding or a
    /// list of bindings (GroupBindings__sre-approvers__0=approver@environment:production).
    /// </summary>
    public static GroupBindingMap FromConfiguration(IConfigurationSection section)
    {
        ArgumentNullException.ThrowIfNull(section);
        var map = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var group in section.GetChildren())
        {
            var values = group.Value is { Length: > 0 } single
                ? [single]
                : group.GetChildren().Select(c => c.Value).OfType<string>().ToList();
            map[group.Key] = values;
        }

        return new GroupBindingMap(map);
    }
}

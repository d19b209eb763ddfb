using System.Globalization;
using ControlPlane.Contracts;
using ControlPlane.Policy.Validation;

namespace ControlPlane.Policy.Bundles;

/// <summary>The <c>validation-plan</c> block of a rule (see <see cref="ValidationPlanRule"/>), with the parser's error paths.</summary>
public static partial class BundleParser
{
    private static readonly string[] PlanKeys = ["dependents", "require", "add", "retries", "advisory"];
    private static readonly string[] SelectionKeys = ["max-depth", "criticality-at-most", "data-classes-any-of", "flows-any-of", "reachable-only", "advisory"];
    private static readonly string[] AddKeys = ["suite", "node", "fleet"];
    private const string DefaultFleet = "testing";
    private const int MaxDepth = 1000;

    private sealed partial class Reader
    {
        private ValidationPlanRule? ReadPlan(YamlValue node, string path)
        {
            if (Map(node, path, "'validation-plan' must be a mapping (dependents, require, add, retries, advisory)") is not { } plan)
            {
                return null;
            }

            RejectUnknown(plan, path, PlanKeys);
            var selections = new List<DependentSelection>();
            if (Get(plan, "dependents") is { } dependentsNode)
            {
                if (dependentsNode is YamlList list)
                {
                    for (var i = 0; i < list.Items.Count; i++)
                    {
                        if (ReadSelection(list.Items[i], string.Create(CultureInfo.InvariantCulture, $"{path}.dependents[{i}]")) is { } selection)
                        {
                            selections.Add(selection);
                        }
                    }
                }
                else
                {
                    Error(dependentsNode, path + ".dependents", "'dependents' must be a list of selections such as { max-depth: 1, reachable-only: true }");
                }
            }

            var require = Names(plan, "require", path) ?? [];
            foreach (var minimum in require.Where(m => !PlanMinimums.IsKnown(m)))
            {
                Error(Get(plan, "require")!, path + ".require",
                    $"'{minimum}' is not a minimum: all-tier-N-dependents (N 0 to 3), {PlanMinimums.AllReachableDependents} or {PlanMinimums.AllDependents}");
            }

            var advisory = Names(plan, "advisory", path) ?? [];
            CheckSlugs(plan, "advisory", path, advisory, "suite");
            return new ValidationPlanRule(selections, require, ReadAdded(plan, path), ReadRetries(plan, path), advisory);
        }

        private DependentSelection? ReadSelection(YamlValue node, string path)
        {
            if (Map(node, path, "a selection must be a mapping such as { max-depth: 1, reachable-only: true }") is not { } selection)
            {
                return null;
            }

            RejectUnknown(selection, path, SelectionKeys);
            var flows = Names(selection, "flows-any-of", path);
            foreach (var flow in (flows ?? []).Where(f => !EdgeFlows.All.Contains(f, StringComparer.Ordinal)))
            {
                Error(Get(selection, "flows-any-of")!, path + ".flows-any-of", $"'{flow}' is not a flow ({string.Join(", ", EdgeFlows.All)})");
            }

            return new DependentSelection(Int(selection, "max-depth", path, 1, MaxDepth), Int(selection, "criticality-at-most", path, 0, 3),
                Names(selection, "data-classes-any-of", path), flows, Bool(selection, "reachable-only", path) ?? false, Bool(selection, "advisory", path) ?? false);
        }

        private List<AddedSuite> ReadAdded(YamlMap plan, string path)
        {
            var added = new List<AddedSuite>();
            if (Get(plan, "add") is not { } node)
            {
                return added;
            }

            if (node is not YamlList list)
            {
                Error(node, path + ".add", "'add' must be a list of { suite, node, fleet? }");
                return added;
            }

            for (var i = 0; i < list.Items.Count; i++)
            {
                var itemPath = string.Create(CultureInfo.InvariantCulture, $"{path}.add[{i}]");
                if (Map(list.Items[i], itemPath, "an added suite is a mapping { suite, node, fleet? }") is not { } item)
                {
                    continue;
                }

                RejectUnknown(item, itemPath, AddKeys);
                var suite = SlugText(item, "suite", itemPath, required: true);
                var nodeId = SlugText(item, "node", itemPath, required: true);
                var fleet = SlugText(item, "fleet", itemPath, required: false) ?? DefaultFleet;
                if (suite is not null && nodeId is not null)
                {
                    added.Add(new AddedSuite(suite, nodeId, fleet));
                }
            }

            return [.. added.DistinctBy(a => a.Suite, StringComparer.Ordinal).OrderBy(a => a.Suite, StringComparer.Ordinal)];
        }

        private SortedDictionary<string, int> ReadRetries(YamlMap plan, string path)
        {
            var retries = new SortedDictionary<string, int>(StringComparer.Ordinal);
            if (Get(plan, "retries") is not { } node || Map(node, path + ".retries", "'retries' must map suite names to retry counts: { checkout-e2e: 1 }") is not { } map)
            {
                return retries;
            }

            foreach (var (key, _) in map.Entries)
            {
                var entryPath = $"{path}.retries.{key.Value}";
                if (!Slug().IsMatch(key.Value))
                {
                    Error(key, entryPath, $"'{key.Value}' is not a suite name (lowercase letters, digits and inner hyphens)");
                }
                else if (Int(map, key.Value, path + ".retries", 0, PlanMinimums.MaxRetries, required: true) is { } count)
                {
                    retries[key.Value] = count;
                }
            }

            return retries;
        }

        private string? SlugText(YamlMap map, string key, string path, bool required)
        {
            var text = Text(map, key, path, required);
            if (text is not null && !Slug().IsMatch(text))
            {
                Error(Get(map, key)!, $"{path}.{key}", $"'{text}' must be lowercase letters, digits and inner hyphens");
                return null;
            }

            return text;
        }

        private void CheckSlugs(YamlMap map, string key, string path, IEnumerable<string> values, string noun)
        {
            foreach (var value in values.Where(v => !Slug().IsMatch(v)))
            {
                Error(Get(map, key)!, $"{path}.{key}", $"'{value}' is not a {noun} name (lowercase letters, digits and inner hyphens)");
            }
        }
    }
}

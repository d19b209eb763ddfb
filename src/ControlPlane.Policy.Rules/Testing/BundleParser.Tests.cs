using System.Globalization;
using ControlPlane.Contracts;
using ControlPlane.Policy.Testing;

namespace ControlPlane.Policy.Bundles;

/// <summary>
/// The top-level <c>tests</c> list (see <see cref="PolicyTestCase"/>), with the parser's error paths:
/// <code>
/// tests:
///   - name: production-revenue-change-needs-approval
///     facts:
///       action: deploy
///       environment: production
///       agent: remediation-agent             # optional
///       rollback-plan: present               # or absent (the default)
///       impact: { highest-criticality: 1, revenue-path: true, data-classes: [pii], dependents: 3, internet-exposed: false,
///                 unknown-targets: false, drift-detected: false, reachable: true, reachable-data-classes: [pii], reachable-dependents: 2 }
///     expect:
///       outcome: require-approval
///       rules: [production-revenue-path-approval]     # the exact set that fires; or rules-include: [...]
/// </code>
/// </summary>
public static partial class BundleParser
{
    public const int MaxTests = 1000;
    private static readonly string[] TestKeys = ["name", "description", "facts", "expect"];
    private static readonly string[] FactKeys = ["action", "environment", "agent", "rollback-plan", "impact"];
    private static readonly string[] FactImpactKeys =
    [
        "highest-criticality", "revenue-path", "data-classes", "dependents", "internet-exposed", "unknown-targets", "drift-detected",
        "reachable", "reachable-data-classes", "reachable-dependents",
    ];
    private static readonly string[] ExpectKeys = ["outcome", "rules", "rules-include"];

    private sealed partial class Reader
    {
        private List<PolicyTestCase>? ReadTests(YamlValue node, string path, HashSet<string> ruleIds)
        {
            if (node is not YamlList list)
            {
                Error(node, path, "'tests' must be a list of test cases (name, facts, expect)");
                return null;
            }

            if (list.Items.Count > MaxTests)
            {
                Error(node, path, $"a bundle holds at most {MaxTests} tests");
            }

            var tests = new List<PolicyTestCase>();
            var names = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < list.Items.Count; i++)
            {
                var testPath = string.Create(CultureInfo.InvariantCulture, $"{path}[{i}]");
                if (ReadTest(list.Items[i], testPath, ruleIds) is not { } test)
                {
                    continue;
                }

                if (!names.Add(test.Name))
                {
                    Error(list.Items[i], testPath + ".name", $"test name '{test.Name}' is used by an earlier test; names must be unique");
                }

                tests.Add(test);
            }

            return tests;
        }

        private PolicyTestCase? ReadTest(YamlValue node, string path, HashSet<string> ruleIds)
        {
            if (Map(node, path, "a test must be a mapping with 'name', 'facts' and 'expect'") is not { } test)
            {
                return null;
            }

            RejectUnknown(test, path, TestKeys);
            var name = Text(test, "name", path, required: true);
            if (name is not null && !Slug().IsMatch(name))
            {
                Error(Get(test, "name")!, path + ".name", $"test name '{name}' must be lowercase letters, digits and inner hyphens");
            }

            Text(test, "description", path, required: false);
            var facts = Required(test, "facts", path) is { } factsNode ? ReadFacts(factsNode, path + ".facts") : null;
            if (Required(test, "expect", path) is not { } expectNode || Map(expectNode, path + ".expect", "'expect' must be a mapping with 'outcome' and optionally 'rules' or 'rules-include'") is not { } expect)
            {
                return null;
            }

            RejectUnknown(expect, path + ".expect", ExpectKeys);
            var outcome = ReadOutcome(expect, path + ".expect");
            var rules = ExpectedRules(expect, "rules", path + ".expect", ruleIds);
            var include = ExpectedRules(expect, "rules-include", path + ".expect", ruleIds);
            if (rules is not null && include is not null)
            {
                Error(expect, path + ".expect", "give 'rules' (the exact set) or 'rules-include', not both");
            }

            return name is null || facts is null || outcome is null ? null : new PolicyTestCase(name, facts, outcome.Value, rules, include);
        }

        private YamlValue? Required(YamlMap map, string key, string path)
        {
            if (Get(map, key) is { } node)
            {
                return node;
            }

            Error(map, $"{path}.{key}", $"'{key}' is required");
            return null;
        }

        /// <summary>Rule ids a test expects; an empty list is allowed for 'rules' (no rule fires), and every id must be a rule of the bundle.</summary>
        private List<string>? ExpectedRules(YamlMap expect, string key, string path, HashSet<string> ruleIds)
        {
            if (Get(expect, key) is not { } node)
            {
                return null;
            }

            if (node is YamlList { Items.Count: 0 } && key == "rules")
            {
                return [];
            }

            var ids = Names(expect, key, path);
            foreach (var id in (ids ?? []).Where(id => !ruleIds.Contains(id)))
            {
                Error(node, $"{path}.{key}", $"'{id}' is not a rule of this bundle");
            }

            return ids;
        }

        private PolicyFacts? ReadFacts(YamlValue node, string path)
        {
            if (Map(node, path, "'facts' must be a mapping (action, environment, agent, rollback-plan, impact)") is not { } facts)
            {
                return null;
            }

            RejectUnknown(facts, path, FactKeys);
            var action = Text(facts, "action", path, required: true);
            var environment = Text(facts, "environment", path, required: true);
            var agent = Text(facts, "agent", path, required: false);
            var rollback = Text(facts, "rollback-plan", path, required: false);
            if (rollback is not null and not "present" and not "absent")
            {
                Error(Get(facts, "rollback-plan")!, path + ".rollback-plan", $"rollback-plan is 'present' or 'absent', not '{rollback}'");
            }

            var impactPath = path + ".impact";
            var impact = Get(facts, "impact") is { } impactNode ? Map(impactNode, impactPath, "'impact' must be a mapping of facts") : null;
            if (impact is not null)
            {
                RejectUnknown(impact, impactPath, FactImpactKeys);
            }

            var on = impact ?? new YamlMap([], facts.At);
            var reachable = Bool(on, "reachable", impactPath);
            // "reachable: false" alone means nothing is reachable; otherwise absent reachable facts stay unknown (read as wholly reachable).
            var reachableClasses = FactNames(on, "reachable-data-classes", impactPath) ?? (reachable == false ? [] : null);
            var reachableDependents = Int(on, "reachable-dependents", impactPath, 0, MaxDependents) ?? (reachable == false ? 0 : null);
            var result = new PolicyFacts(action ?? string.Empty, environment ?? string.Empty, agent, rollback == "present",
                Int(on, "highest-criticality", impactPath, 0, 3), Bool(on, "revenue-path", impactPath) ?? false,
                FactNames(on, "data-classes", impactPath) ?? [], Int(on, "dependents", impactPath, 0, MaxDependents) ?? 0,
                Bool(on, "internet-exposed", impactPath) ?? false, Bool(on, "unknown-targets", impactPath) ?? false,
                Bool(on, "drift-detected", impactPath) ?? false, null, reachable, reachableClasses, reachableDependents);
            return action is null || environment is null ? null : result;
        }

        /// <summary>Data classes of a fact: a list of names where, unlike in a condition, an empty list says "none".</summary>
        private List<string>? FactNames(YamlMap map, string key, string path) =>
            Get(map, key) is YamlList { Items.Count: 0 } ? [] : Names(map, key, path);
    }
}

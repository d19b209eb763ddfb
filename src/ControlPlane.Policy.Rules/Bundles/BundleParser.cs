using System.Globalization;
using System.Text.RegularExpressions;
using ControlPlane.Contracts;

namespace ControlPlane.Policy.Bundles;

/// <summary>
/// Parses the policy bundle language (YAML) into a <see cref="PolicyBundle"/>, collecting every error with its
/// line, column, YAML path and rule id rather than stopping at the first one. Unknown keys are errors, so a typo
/// can never silently drop a condition.
/// <code>
/// name: example
/// rules:
///   - id: production-revenue-path-approval
///     description: Changes touching the revenue path need a named approver
///     match:
///       environments: [production]
///       actions: [deploy, "config-*"]          # "*" matches any run of characters
///       agents: [remediation-agent]
///       impact: { revenue-path: true, highest-criticality-at-most: 1, data-classes-any-of: [regulated],
///                 dependents-at-least: 5, dependents-at-most: 50, internet-exposed: true, unknown-targets: true,
///                 drift-detected: true }                # a target was deployed outside the plane
///       change: { rollback-plan: absent }     # or present
///     outcome: require-approval              # allow | require-approval | deny
///     approval: { count: 1, roles: [approver], expiry: 4h, change-request: required }   # change-request: optional by default
///     validations: [{ name: unit-tests, action: run-command, parameters: { command: unit-tests } }]
///     verifications: [{ name: health, action: http-check, parameters: { path: /health } }]
///     validation-plan:                        # suites derived from the impact (see Validation/ValidationPlanner)
///       dependents: [{ max-depth: 1, criticality-at-most: 1, data-classes-any-of: [regulated], flows-any-of: [internal-call],
///                      reachable-only: true, advisory: false }]
///       require: [all-tier-0-dependents]      # all-tier-N-dependents, all-reachable-dependents, all-dependents
///       add: [{ suite: gateway-smoke, node: gateway, fleet: testing }]
///       retries: { checkout-e2e: 1 }          # a flaky suite may be retried (0 to 3)
///       advisory: [reporting-billing-export]  # reported, never holds the gate (unless a target or a minimum requires it)
/// </code>
/// Impact conditions on reachability: reachable: true, reachable-data-classes-any-of: [regulated],
/// reachable-dependents-at-least: 3 (an impact without reachability counts as wholly reachable).
/// </summary>
public static partial class BundleParser
{
    public const int MaxRules = 2000;
    public const int MaxApprovals = 10;
    public const int MaxDependents = 1_000_000;
    public static readonly TimeSpan MaxExpiry = TimeSpan.FromDays(30);

    private static readonly string[] TopKeys = ["name", "description", "rules", "tests"];
    private static readonly string[] RuleKeys = ["id", "description", "match", "outcome", "approval", "validations", "verifications", "validation-plan"];
    private static readonly string[] MatchKeys = ["actions", "environments", "agents", "impact", "change", "track-record"];
    private static readonly string[] ImpactKeys =
    [
        "highest-criticality-at-most", "highest-criticality-at-least", "revenue-path", "data-classes-any-of",
        "dependents-at-least", "dependents-at-most", "internet-exposed", "unknown-targets", "drift-detected",
        "reachable", "reachable-data-classes-any-of", "reachable-dependents-at-least",
    ];
    private static readonly string[] ChangeKeys = ["rollback-plan"];
    private static readonly string[] ApprovalKeys = ["count", "roles", "expiry", "change-request"];
    private static readonly string[] StepKeys = ["name", "action", "parameters"];

    public static BundleParseResult Parse(string yaml)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        var root = YamlTree.Load(yaml, out var syntaxError, out var at);
        if (root is null)
        {
            return new BundleParseResult(null, [new BundleError("$", at.Line, at.Column, null, $"invalid YAML: {syntaxError}")]);
        }

        var reader = new Reader();
        var bundle = reader.ReadBundle(root);
        return new BundleParseResult(reader.Errors.Count == 0 ? bundle : null, reader.Errors);
    }

    [GeneratedRegex("^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$", RegexOptions.CultureInvariant)]
    private static partial Regex Slug();

    [GeneratedRegex("^(?:(?<d>[0-9]{1,4})d)?(?:(?<h>[0-9]{1,5})h)?(?:(?<m>[0-9]{1,6})m)?(?:(?<s>[0-9]{1,7})s)?$", RegexOptions.CultureInvariant)]
    private static partial Regex Duration();

    /// <summary>Parses "4h", "30m", "1d", "1h30m", "90s" into a time span; null when it is not one.</summary>
    public static TimeSpan? ParseDuration(string text)
    {
        var match = Duration().Match(text ?? string.Empty);
        if (!match.Success || string.IsNullOrEmpty(text))
        {
            return null;
        }

        static long Part(Match m, string name) => m.Groups[name].Success ? long.Parse(m.Groups[name].Value, CultureInfo.InvariantCulture) : 0;
        return TimeSpan.FromSeconds((((Part(match, "d") * 24) + Part(match, "h")) * 60 + Part(match, "m")) * 60 + Part(match, "s"));
    }

    private sealed partial class Reader
    {
        private string? _ruleId;

        public List<BundleError> Errors { get; } = [];

        public PolicyBundle? ReadBundle(YamlValue root)
        {
            if (Map(root, "$", "the bundle must be a mapping with 'rules'") is not { } top)
            {
                return null;
            }

            RejectUnknown(top, "$", TopKeys);
            var name = Text(top, "name", "$", required: false);
            var description = Text(top, "description", "$", required: false);
            var rules = new List<PolicyRule>();
            if (Get(top, "rules") is not { } rulesNode)
            {
                Error(top, "$.rules", "'rules' is required: a list of rules");
                return null;
            }

            if (rulesNode is not YamlList list || list.Items.Count == 0)
            {
                Error(rulesNode, "$.rules", "'rules' must be a non-empty list");
                return null;
            }

            if (list.Items.Count > MaxRules)
            {
                Error(rulesNode, "$.rules", $"a bundle holds at most {MaxRules} rules");
            }

            var ids = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < list.Items.Count; i++)
            {
                if (ReadRule(list.Items[i], $"$.rules[{i}]") is { } rule)
                {
                    if (!ids.Add(rule.Id))
                    {
                        Error(list.Items[i], $"$.rules[{i}].id", $"rule id '{rule.Id}' is used by an earlier rule; ids must be unique");
                    }

                    rules.Add(rule);
                }
            }

            _ruleId = null;
            var tests = Get(top, "tests") is { } testsNode ? ReadTests(testsNode, "$.tests", ids) : null;
            return new PolicyBundle(name, description, rules, tests);
        }

        private PolicyRule? ReadRule(YamlValue node, string path)
        {
            _ruleId = null;
            if (Map(node, path, "a rule must be a mapping with 'id', 'match' and 'outcome'") is not { } rule)
            {
                return null;
            }

            var id = Text(rule, "id", path, required: true);
            if (id is not null && !Slug().IsMatch(id))
            {
                Error(Get(rule, "id")!, path + ".id", $"rule id '{id}' must be lowercase letters, digits and inner hyphens");
            }

            _ruleId = id;
            RejectUnknown(rule, path, RuleKeys);
            var description = Text(rule, "description", path, required: false);
            var match = Get(rule, "match") is { } matchNode ? ReadMatch(matchNode, path + ".match") : new RuleMatch(null, null, null, null, null);
            var outcome = ReadOutcome(rule, path);
            var approval = Get(rule, "approval") is { } approvalNode ? ReadApproval(approvalNode, path + ".approval") : null;
            var validations = ReadSteps(rule, "validations", path);
            var verifications = ReadSteps(rule, "verifications", path);
            var plan = Get(rule, "validation-plan") is { } planNode ? ReadPlan(planNode, path + ".validation-plan") : null;

            if (outcome == DecisionOutcome.RequireApproval && Get(rule, "approval") is null)
            {
                Error(rule, path + ".approval", "a require-approval rule needs 'approval' (count, roles, expiry)");
            }
            else if (outcome is DecisionOutcome.Allow or DecisionOutcome.Deny && Get(rule, "approval") is { } stray)
            {
                Error(stray, path + ".approval", $"'approval' applies only to require-approval rules, not to {Wire(outcome.Value)}");
            }

            if (outcome == DecisionOutcome.Deny)
            {
                foreach (var key in new[] { "validations", "verifications", "validation-plan" })
                {
                    if (Get(rule, key) is { } steps)
                    {
                        Error(steps, $"{path}.{key}", $"a deny rule runs nothing: remove '{key}'");
                    }
                }
            }

            return id is null || outcome is null || match is null
                ? null
                : new PolicyRule(id, description, match, outcome.Value, approval, validations, verifications, plan);
        }

        private DecisionOutcome? ReadOutcome(YamlMap rule, string path)
        {
            var text = Text(rule, "outcome", path, required: true);
            DecisionOutcome? outcome = text switch
            {
                "allow" => DecisionOutcome.Allow,
                "require-approval" => DecisionOutcome.RequireApproval,
                "deny" => DecisionOutcome.Deny,
                _ => null,
            };
            if (text is not null && outcome is null)
            {
                Error(Get(rule, "outcome")!, path + ".outcome", $"outcome '{text}' is not one of allow, require-approval, deny");
            }

            return outcome;
        }

        private RuleMatch? ReadMatch(YamlValue node, string path)
        {
            if (Map(node, path, "'match' must be a mapping of conditions") is not { } match)
            {
                return null;
            }

            RejectUnknown(match, path, MatchKeys);
            var actions = Names(match, "actions", path);
            var environments = Names(match, "environments", path);
            var agents = Names(match, "agents", path);
            var impact = Get(match, "impact") is { } impactNode ? ReadImpact(impactNode, path + ".impact") : null;
            ChangeMatch? change = null;
            if (Get(match, "change") is { } changeNode && Map(changeNode, path + ".change", "'change' must be a mapping") is { } changeMap)
            {
                RejectUnknown(changeMap, path + ".change", ChangeKeys);
                var rollback = Text(changeMap, "rollback-plan", path + ".change", required: false);
                bool? present = rollback switch { "present" => true, "absent" => false, _ => null };
                if (rollback is not null && present is null)
                {
                    Error(Get(changeMap, "rollback-plan")!, path + ".change.rollback-plan", $"rollback-plan is 'present' or 'absent', not '{rollback}'");
                }

                change = new ChangeMatch(present);
            }

            var trackRecord = Get(match, "track-record") is { } recordNode ? ReadTrackRecord(recordNode, path + ".track-record") : null;
            return new RuleMatch(actions, environments, agents, impact, change, trackRecord);
        }

        private ImpactMatch? ReadImpact(YamlValue node, string path)
        {
            if (Map(node, path, "'impact' must be a mapping of conditions") is not { } impact)
            {
                return null;
            }

            RejectUnknown(impact, path, ImpactKeys);
            var atMost = Int(impact, "highest-criticality-at-most", path, 0, 3);
            var atLeast = Int(impact, "highest-criticality-at-least", path, 0, 3);
            var dependentsAtLeast = Int(impact, "dependents-at-least", path, 0, MaxDependents);
            var dependentsAtMost = Int(impact, "dependents-at-most", path, 0, MaxDependents);
            if (atMost < atLeast)
            {
                Error(impact, path, $"highest-criticality-at-least {atLeast} and highest-criticality-at-most {atMost} can never both hold");
            }

            if (dependentsAtMost < dependentsAtLeast)
            {
                Error(impact, path, $"dependents-at-least {dependentsAtLeast} and dependents-at-most {dependentsAtMost} can never both hold");
            }

            return new ImpactMatch(atMost, atLeast, Bool(impact, "revenue-path", path), Names(impact, "data-classes-any-of", path),
                dependentsAtLeast, dependentsAtMost, Bool(impact, "internet-exposed", path), Bool(impact, "unknown-targets", path),
                Bool(impact, "drift-detected", path), Bool(impact, "reachable", path), Names(impact, "reachable-data-classes-any-of", path),
                Int(impact, "reachable-dependents-at-least", path, 0, MaxDependents));
        }

        private ApprovalRequirement? ReadApproval(YamlValue node, string path)
        {
            if (Map(node, path, "'approval' must be a mapping with count, roles and expiry") is not { } approval)
            {
                return null;
            }

            RejectUnknown(approval, path, ApprovalKeys);
            var count = Int(approval, "count", path, 1, MaxApprovals, required: true);
            var roles = Names(approval, "roles", path, required: true);
            foreach (var role in roles ?? [])
            {
                if (!Roles.All.Contains(role))
                {
                    Error(Get(approval, "roles")!, path + ".roles", $"'{role}' is not a role ({string.Join(", ", Roles.All.Order(StringComparer.Ordinal))})");
                }
            }

            var expiryText = Text(approval, "expiry", path, required: true);
            TimeSpan? expiry = null;
            if (expiryText is not null)
            {
                expiry = ParseDuration(expiryText);
                if (expiry is not { } e || e <= TimeSpan.Zero || e > MaxExpiry)
                {
                    Error(Get(approval, "expiry")!, path + ".expiry", $"expiry '{expiryText}' must be a duration such as 30m, 4h, 1d or 1h30m, above zero and at most 30d");
                    expiry = null;
                }
            }

            // change-request: required makes the ITSM change request a precondition of execution; optional is the default.
            var changeRequest = Text(approval, "change-request", path, required: false);
            if (changeRequest is not null and not "required" and not "optional")
            {
                Error(Get(approval, "change-request")!, path + ".change-request", $"change-request '{changeRequest}' must be required or optional");
            }

            return count is null || roles is null || expiry is null
                ? null
                : new ApprovalRequirement(count.Value, roles, expiry.Value, changeRequest == "required");
        }

        private List<StepRequirement> ReadSteps(YamlMap rule, string key, string rulePath)
        {
            var steps = new List<StepRequirement>();
            var path = $"{rulePath}.{key}";
            if (Get(rule, key) is not { } node)
            {
                return steps;
            }

            if (node is not YamlList list)
            {
                Error(node, path, $"'{key}' must be a list of steps (name, action, parameters)");
                return steps;
            }

            var names = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < list.Items.Count; i++)
            {
                var stepPath = $"{path}[{i}]";
                if (Map(list.Items[i], stepPath, "a step must be a mapping with name, action and parameters") is not { } step)
                {
                    continue;
                }

                RejectUnknown(step, stepPath, StepKeys);
                var name = Text(step, "name", stepPath, required: true);
                var action = Text(step, "action", stepPath, required: true);
                if (name is not null && !Slug().IsMatch(name))
                {
                    Error(Get(step, "name")!, stepPath + ".name", $"step name '{name}' must be lowercase letters, digits and inner hyphens");
                }

                if (action is not null && !Slug().IsMatch(action))
                {
                    Error(Get(step, "action")!, stepPath + ".action", $"step action '{action}' must be an action kind such as run-command or http-check");
                }

                if (name is not null && !names.Add(name))
                {
                    Error(list.Items[i], stepPath + ".name", $"step '{name}' appears twice in {key}");
                }

                var parameters = new SortedDictionary<string, string>(StringComparer.Ordinal);
                if (Get(step, "parameters") is { } parametersNode)
                {
                    if (Map(parametersNode, stepPath + ".parameters", "'parameters' must be a mapping of names to text values") is { } map)
                    {
                        foreach (var (parameterKey, parameterValue) in map.Entries)
                        {
                            if (parameterValue is YamlText { IsNull: false } text)
                            {
                                parameters[parameterKey.Value] = text.Value;
                            }
                            else
                            {
                                Error(parameterValue, $"{stepPath}.parameters.{parameterKey.Value}", "a parameter value must be text");
                            }
                        }
                    }
                }

                if (name is not null && action is not null)
                {
                    steps.Add(new StepRequirement(name, action, parameters));
                }
            }

            return steps;
        }

        private static YamlValue? Get(YamlMap map, string key)
        {
            foreach (var (k, v) in map.Entries)
            {
                if (k.Value == key)
                {
                    return v;
                }
            }

            return null;
        }

        private YamlMap? Map(YamlValue node, string path, string message)
        {
            if (node is YamlMap map)
            {
                return map;
            }

            Error(node, path, message);
            return null;
        }

        private void RejectUnknown(YamlMap map, string path, string[] allowed)
        {
            foreach (var (key, _) in map.Entries.Where(e => !allowed.Contains(e.Key.Value)))
            {
                Error(key, $"{path}.{key.Value}", $"unknown key '{key.Value}' (allowed here: {string.Join(", ", allowed)})");
            }
        }

        private string? Text(YamlMap map, string key, string path, bool required)
        {
            var node = Get(map, key);
            if (node is null || node is YamlText { IsNull: true })
            {
                if (required)
                {
                    Error(node ?? map, $"{path}.{key}", $"'{key}' is required");
                }

                return null;
            }

            if (node is YamlText text && text.Value.Trim().Length > 0)
            {
                return text.Value.Trim();
            }

            Error(node, $"{path}.{key}", $"'{key}' must be non-empty text");
            return null;
        }

        private int? Int(YamlMap map, string key, string path, int min, int max, bool required = false)
        {
            var text = Text(map, key, path, required);
            if (text is null)
            {
                return null;
            }

            if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
            {
                return value;
            }

            Error(Get(map, key)!, $"{path}.{key}", $"'{key}' must be a whole number from {min} to {max}, not '{text}'");
            return null;
        }

        private bool? Bool(YamlMap map, string key, string path)
        {
            var text = Text(map, key, path, required: false);
            switch (text)
            {
                case null:
                    return null;
                case "true":
                    return true;
                case "false":
                    return false;
                default:
                    Error(Get(map, key)!, $"{path}.{key}", $"'{key}' must be true or false, not '{text}'");
                    return null;
            }
        }

        /// <summary>A non-empty list of names (sorted and distinct: the canonical form of a set).</summary>
        private List<string>? Names(YamlMap map, string key, string path, bool required = false)
        {
            var node = Get(map, key);
            if (node is null)
            {
                if (required)
                {
                    Error(map, $"{path}.{key}", $"'{key}' is required");
                }

                return null;
            }

            if (node is not YamlList list || list.Items.Count == 0)
            {
                Error(node, $"{path}.{key}", $"'{key}' must be a non-empty list (omit it to match anything)");
                return null;
            }

            var names = new List<string>();
            foreach (var item in list.Items)
            {
                if (item is YamlText { IsNull: false } text && text.Value.Length is > 0 and <= 200 && !text.Value.Any(char.IsWhiteSpace))
                {
                    names.Add(text.Value);
                }
                else
                {
                    Error(item, $"{path}.{key}", $"every entry of '{key}' must be a name without spaces");
                }
            }

            return [.. names.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
        }

        private void Error(YamlValue at, string path, string message) =>
            Errors.Add(new BundleError(path, at.At.Line, at.At.Column, _ruleId, message));

        private static string Wire(DecisionOutcome outcome) => outcome switch
        {
            DecisionOutcome.Allow => "allow",
            DecisionOutcome.RequireApproval => "require-approval",
            _ => "deny",
        };
    }
}

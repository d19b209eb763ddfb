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
    public static readonly TimeSpan MaxExpiry = TimeSpan.FromDays(30);

    private static readonly string[] TopKeys = ["name", "description", "rules", "tests"];
    private static readonly string[] RuleKeys = ["id", "description", "match", "outcome", "approval", "validations", "verifications", "validation-plan"];
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

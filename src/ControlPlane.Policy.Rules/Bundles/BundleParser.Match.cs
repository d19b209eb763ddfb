namespace ControlPlane.Policy.Bundles;

/// <summary>The <c>match</c> block of a rule (see <see cref="RuleMatch"/>): names, and the <c>impact</c> and <c>change</c> conditions.</summary>
public static partial class BundleParser
{
    public const int MaxDependents = 1_000_000;

    private static readonly string[] MatchKeys = ["actions", "environments", "agents", "impact", "change", "track-record"];
    private static readonly string[] ImpactKeys =
    [
        "highest-criticality-at-most", "highest-criticality-at-least", "revenue-path", "data-classes-any-of",
        "dependents-at-least", "dependents-at-most", "internet-exposed", "unknown-targets", "drift-detected",
        "reachable", "reachable-data-classes-any-of", "reachable-dependents-at-least",
    ];
    private static readonly string[] ChangeKeys = ["rollback-plan"];

    private sealed partial class Reader
    {
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
    }
}

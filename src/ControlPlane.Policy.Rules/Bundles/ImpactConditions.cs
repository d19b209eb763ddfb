using System.Collections.Frozen;
using System.Text;
using ControlPlane.Policy.Validation;

namespace ControlPlane.Policy.Bundles;

/// <summary>
/// A rule's <c>impact</c> conditions as predicates and sentences. The sentences append into the reason being built
/// (interpolation straight into the builder, lists joined in place): a decision makes one string per reason.
/// </summary>
internal static class ImpactConditions
{
    private const string NoTier = "no known node is touched, so there is no criticality tier";

    public static IEnumerable<Condition> Of(ImpactMatch impact)
    {
        if (impact.HighestCriticalityAtMost is { } most)
        {
            yield return new Condition("impact.highest-criticality-at-most", f => f.HighestCriticality <= most,
                (b, f, met) => f.HighestCriticality is { } t ? b.Append($"highest criticality tier {t} is {(met ? "at most" : "above")} {most}") : b.Append(NoTier));
        }

        if (impact.HighestCriticalityAtLeast is { } least)
        {
            yield return new Condition("impact.highest-criticality-at-least", f => f.HighestCriticality >= least,
                (b, f, met) => f.HighestCriticality is { } t ? b.Append($"highest criticality tier {t} is {(met ? "at least" : "below")} {least}") : b.Append(NoTier));
        }

        if (impact.RevenuePath is { } revenue)
        {
            yield return new Condition("impact.revenue-path", f => f.RevenuePath == revenue,
                (b, f, _) => b.Append(f.RevenuePath ? "revenue path touched" : "revenue path not touched"));
        }

        if (impact.DataClassesAnyOf is { } classes)
        {
            var wanted = classes.ToFrozenSet(StringComparer.OrdinalIgnoreCase);
            var listed = string.Join(", ", classes);
            yield return new Condition("impact.data-classes-any-of", f => f.DataClasses.Any(wanted.Contains),
                (b, f, met) => met
                    ? Join(b, f.DataClasses, wanted).Append(" data touched")
                    : Join(b.Append("data classes ["), f.DataClasses, null).Append("] include none of [").Append(listed).Append(']'));
        }

        if (impact.DependentsAtLeast is { } atLeast)
        {
            yield return new Condition("impact.dependents-at-least", f => f.Dependents >= atLeast,
                (b, f, met) => b.Append($"{f.Dependents} dependents, {(met ? "at least" : "fewer than")} {atLeast}"));
        }

        if (impact.DependentsAtMost is { } atMost)
        {
            yield return new Condition("impact.dependents-at-most", f => f.Dependents <= atMost,
                (b, f, met) => b.Append($"{f.Dependents} dependents, {(met ? "at most" : "more than")} {atMost}"));
        }

        if (impact.InternetExposed is { } exposed)
        {
            yield return new Condition("impact.internet-exposed", f => f.InternetExposed == exposed,
                (b, f, _) => b.Append(f.InternetExposed ? "internet-exposed node touched" : "no internet-exposed node touched"));
        }

        if (impact.DriftDetected is { } drift)
        {
            yield return new Condition("impact.drift-detected", f => f.DriftDetected == drift, Drift);
        }

        if (impact.Reachable is { } reachable)
        {
            yield return new Condition("impact.reachable", f => ReachabilityFacts.IsReachable(f) == reachable,
                (b, f, _) => b.Append(ReachabilityFacts.IsReachable(f) ? "outside traffic reaches the impact" : "outside traffic reaches no affected node")
                    .Append(ReachabilityFacts.Unknown(f)));
        }

        if (impact.ReachableDataClassesAnyOf is { } reachableClasses)
        {
            var wanted = reachableClasses.ToFrozenSet(StringComparer.OrdinalIgnoreCase);
            var listed = string.Join(", ", reachableClasses);
            yield return new Condition("impact.reachable-data-classes-any-of", f => ReachabilityFacts.DataClasses(f).Any(wanted.Contains),
                (b, f, met) => (met
                    ? Join(b, ReachabilityFacts.DataClasses(f), wanted).Append(" data reachable from outside")
                    : Join(b.Append("reachable data classes ["), ReachabilityFacts.DataClasses(f), null).Append("] include none of [").Append(listed).Append(']'))
                    .Append(ReachabilityFacts.Unknown(f)));
        }

        if (impact.ReachableDependentsAtLeast is { } reachableAtLeast)
        {
            yield return new Condition("impact.reachable-dependents-at-least", f => ReachabilityFacts.Dependents(f) >= reachableAtLeast,
                (b, f, met) => b.Append($"{ReachabilityFacts.Dependents(f)} reachable dependents, {(met ? "at least" : "fewer than")} {reachableAtLeast}{ReachabilityFacts.Unknown(f)}"));
        }

        if (impact.UnknownTargets is { } unknown)
        {
            yield return new Condition("impact.unknown-targets", f => f.UnknownTargets == unknown,
                (b, f, _) => b.Append(f.UnknownTargets ? "unknown targets present" : "no unknown targets"));
        }
    }

    private static StringBuilder Drift(StringBuilder b, PolicyFacts f, bool met)
    {
        if (!f.DriftDetected)
        {
            return b.Append("no deployment outside the plane on the targets");
        }

        b.Append("a target was deployed outside the plane");
        return f.DriftSince is { } since ? b.Append($" since {since.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}") : b;
    }

    /// <summary>The names (those in <paramref name="only"/> when given) joined by ", ", as string.Join would.</summary>
    private static StringBuilder Join(StringBuilder b, IReadOnlyList<string> names, FrozenSet<string>? only)
    {
        var first = true;
        for (var i = 0; i < names.Count; i++)
        {
            if (only is not null && !only.Contains(names[i]))
            {
                continue;
            }

            if (!first)
            {
                b.Append(", ");
            }

            b.Append(names[i]);
            first = false;
        }

        return b;
    }
}

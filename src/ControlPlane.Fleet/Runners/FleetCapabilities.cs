namespace ControlPlane.Fleet.Runners;

/// <summary>What a fleet can do right now: the union of its live runners' action kinds, and how many there are.</summary>
public sealed record FleetCapabilities(string Fleet, IReadOnlyList<string> ActionKinds, int LiveRunners)
{
    public static FleetCapabilities Of(string fleet, IEnumerable<IReadOnlyCollection<string>> liveRunnerCapabilities)
    {
        var kinds = new SortedSet<string>(StringComparer.Ordinal);
        var count = 0;
        foreach (var capabilities in liveRunnerCapabilities)
        {
            count++;
            kinds.UnionWith(capabilities);
        }

        return new FleetCapabilities(fleet, [.. kinds], count);
    }

    public bool SameAs(FleetCapabilities other) =>
        other is not null && LiveRunners == other.LiveRunners && ActionKinds.SequenceEqual(other.ActionKinds, StringComparer.Ordinal);
}

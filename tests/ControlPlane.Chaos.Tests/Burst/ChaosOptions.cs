using System.Globalization;

namespace ControlPlane.Chaos.Tests.Burst;

/// <summary>
/// The size of a chaos run. Defaults are CI-sized (a few minutes on two cores); CONTROLPLANE_CHAOS_* variables make it
/// larger by hand, e.g. CONTROLPLANE_CHAOS_PROPOSALS=500 CONTROLPLANE_CHAOS_BURST=00:06:00.
/// </summary>
public sealed record ChaosOptions(
    int Proposals,
    double ProductionShare,
    TimeSpan Burst,
    TimeSpan Down,
    TimeSpan Gap,
    TimeSpan Drain,
    IReadOnlyList<string>? Faults)
{
    public static ChaosOptions FromEnvironment() => new(
        Proposals: Read("PROPOSALS", int.Parse, 30),
        ProductionShare: Read("PRODUCTION_SHARE", s => double.Parse(s, CultureInfo.InvariantCulture), 0.2),
        Burst: Read("BURST", s => TimeSpan.Parse(s, CultureInfo.InvariantCulture), TimeSpan.FromSeconds(60)),
        Down: Read("DOWN", s => TimeSpan.Parse(s, CultureInfo.InvariantCulture), TimeSpan.FromSeconds(3)),
        Gap: Read("GAP", s => TimeSpan.Parse(s, CultureInfo.InvariantCulture), TimeSpan.FromSeconds(1)),
        Drain: Read("DRAIN", s => TimeSpan.Parse(s, CultureInfo.InvariantCulture), TimeSpan.FromSeconds(120)),
        Faults: Environment.GetEnvironmentVariable("CONTROLPLANE_CHAOS_FAULTS") is { Length: > 0 } faults
            ? faults.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : null);

    private static T Read<T>(string name, Func<string, T> parse, T fallback) =>
        Environment.GetEnvironmentVariable($"CONTROLPLANE_CHAOS_{name}") is { Length: > 0 } value ? parse(value) : fallback;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Proposals} proposals ({ProductionShare:P0} production) over {Burst.TotalSeconds:0} s, faults down {Down.TotalSeconds:0} s, drain {Drain.TotalSeconds:0} s");
}

using System.Globalization;

namespace ControlPlane.AppHost;

/// <summary>
/// How many malloc arenas glibc gives each project. By default a thread that allocates natively while another does
/// gets an arena of its own, up to eight per core, and an arena keeps what it once held; the thread pool's workers come
/// and go, so an idle service kept gaining arenas: a copy of identity grew to 173 MB in its first eleven minutes, to
/// 162 MB with two arenas (README "Load", eleventh round). .NET allocates little natively, so two are enough.
/// MALLOC_ARENA_MAX in the AppHost's environment (or configuration) is passed on instead.
/// </summary>
public static class NativeHeap
{
    public const string ArenaMaxKey = "MALLOC_ARENA_MAX";

    public const int DefaultArenaMax = 2;

    public static void Apply(IDistributedApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var arenas = DefaultArenaMax;
        if (builder.Configuration[ArenaMaxKey] is { Length: > 0 } own
            && (!int.TryParse(own, NumberStyles.None, CultureInfo.InvariantCulture, out arenas) || arenas is < 1 or > 1024))
        {
            // glibc ignores a value it cannot read and keeps its default: say so rather than measure the wrong thing.
            throw new InvalidOperationException($"{ArenaMaxKey} must be a whole number of arenas from 1 to 1024, such as 2; got '{own}'.");
        }

        var value = arenas.ToString(CultureInfo.InvariantCulture);
        foreach (var project in builder.Resources.OfType<ProjectResource>())
        {
            builder.CreateResourceBuilder(project).WithEnvironment(ArenaMaxKey, value);
        }
    }
}

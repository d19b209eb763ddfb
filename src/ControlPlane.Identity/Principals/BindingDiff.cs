namespace ControlPlane.Identity.Principals;

/// <summary>What to grant and what to revoke to turn one set of bindings into another. Pure.</summary>
public sealed record BindingDiff(IReadOnlyList<string> Grant, IReadOnlyList<string> Revoke)
{
    public bool IsEmpty => Grant.Count == 0 && Revoke.Count == 0;

    public static BindingDiff Between(IEnumerable<string> current, IEnumerable<string> desired)
    {
        var now = new SortedSet<string>(current, StringComparer.Ordinal);
        var wanted = new SortedSet<string>(desired, StringComparer.Ordinal);
        return new BindingDiff([.. wanted.Except(now)], [.. now.Except(wanted)]);
    }
}

using System.Globalization;
using ControlPlane.Contracts;
using ControlPlane.Orchestrator.Proposals;

namespace ControlPlane.Orchestrator.Scheduling;

/// <summary>
/// What a change touches, as change windows see it. Teams come from the impact report the proposal was decided on;
/// null means not known, and then a window that names teams applies (fail closed: an unknown scope is held by a deny
/// window and needs an open allow window). Whether a target depends on a frozen node is the window's to know
/// (<see cref="CompiledWindow.Dependents"/>), not the change's.
/// </summary>
public sealed record ChangeScope(string Environment, IReadOnlyList<string> Targets, IReadOnlyList<string>? Teams = null)
{
    public static ChangeScope Of(ProposalRecord proposal)
    {
        ArgumentNullException.ThrowIfNull(proposal);
        return new(proposal.Environment, proposal.Targets, proposal.Impact?.Teams);
    }
}

/// <summary>
/// The windows' answer for one change at one time. Deciding: the deny windows that hold it, or the allow windows it
/// waits for (or that let it through). NextOpening: when it may start, if that happens within the look-ahead.
/// </summary>
public sealed record WindowVerdict(bool Open, IReadOnlyList<ChangeWindow> Deciding, string? Reason, DateTimeOffset? NextOpening);

/// <summary>
/// Decides whether a change may start now (Argo CD sync windows are the model): no window applies → open; an open
/// deny window applies → held (deny beats allow); allow windows apply → open only while one of them is open.
/// Pure: the windows (with the dependents of the nodes they freeze already resolved), the change's scope and the
/// time in, the verdict out.
/// </summary>
public static class ChangeWindows
{
    /// <summary>How many window boundaries the search for the next opening looks across before it gives up.</summary>
    private const int LookAheadSteps = 64;

    public static WindowVerdict Evaluate(IEnumerable<ChangeWindow> windows, ChangeScope scope, DateTimeOffset now) =>
        Evaluate(windows.Select(CompiledWindow.Compile).ToList(), scope, now);

    public static WindowVerdict Evaluate(IReadOnlyList<CompiledWindow> windows, ChangeScope scope, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(windows);
        ArgumentNullException.ThrowIfNull(scope);
        var applying = windows.Select(w => (Window: w, Subject: w.Holds(scope))).Where(a => a.Subject is not null).Select(a => (a.Window, a.Subject!)).ToList();
        var (open, deciding, reason) = Decide(applying, now);
        return open
            ? new WindowVerdict(true, deciding, null, null)
            : new WindowVerdict(false, deciding, reason, NextOpening(applying, now));
    }

    private static (bool Open, IReadOnlyList<ChangeWindow> Deciding, string? Reason) Decide(List<(CompiledWindow Window, string Subject)> applying, DateTimeOffset at)
    {
        var denying = applying.Where(a => a.Window.Kind == ChangeWindowKinds.Deny && a.Window.IsOpen(at)).ToList();
        if (denying.Count > 0)
        {
            var reasons = denying.Select(d => $"{d.Window.Describe()} holds {d.Subject} " +
                (d.Window.OpenUntil(at) is { } until ? $"until {Format(until)}" : "with no end in sight"));
            return (false, [.. denying.Select(d => d.Window.Window)], string.Join("; ", reasons));
        }

        var allowing = applying.Where(a => a.Window.Kind == ChangeWindowKinds.Allow).ToList();
        if (allowing.Count == 0)
        {
            return (true, [], null);
        }

        var openAllows = allowing.Where(a => a.Window.IsOpen(at)).Select(a => a.Window.Window).ToList();
        return openAllows.Count > 0
            ? (true, openAllows, null)
            : (false, [.. allowing.Select(a => a.Window.Window)],
                $"{allowing[0].Subject} may change only inside {string.Join(" or ", allowing.Select(a => a.Window.Describe()))}");
    }

    /// <summary>Walks the windows' boundaries (an open window's end, a closed one's next start) until the change is open.</summary>
    private static DateTimeOffset? NextOpening(List<(CompiledWindow Window, string Subject)> applying, DateTimeOffset now)
    {
        var at = now;
        for (var step = 0; step < LookAheadSteps; step++)
        {
            DateTimeOffset? next = null;
            foreach (var (window, _) in applying)
            {
                var boundary = window.IsOpen(at) ? window.OpenUntil(at) : window.NextStart(at);
                if (boundary is { } b && b > at && (next is null || b < next))
                {
                    next = b;
                }
            }

            if (next is not { } candidate)
            {
                return null;
            }

            at = candidate;
            if (IsOpen(applying, at))
            {
                return at;
            }
        }

        return null;
    }

    /// <summary>Decide's answer without the reasons (the next-opening search asks it at every boundary).</summary>
    private static bool IsOpen(List<(CompiledWindow Window, string Subject)> applying, DateTimeOffset at) =>
        !applying.Any(a => a.Window.Kind == ChangeWindowKinds.Deny && a.Window.IsOpen(at)) &&
        (applying.All(a => a.Window.Kind != ChangeWindowKinds.Allow) || applying.Any(a => a.Window.Kind == ChangeWindowKinds.Allow && a.Window.IsOpen(at)));

    /// <summary>"2026-12-07 09:00 UTC" (seconds only when there are some).</summary>
    public static string Format(DateTimeOffset at)
    {
        var utc = at.ToUniversalTime();
        return utc.ToString(utc.Second == 0 ? "yyyy-MM-dd HH:mm" : "yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + " UTC";
    }
}

namespace ControlPlane.Load;

/// <summary>
/// Decides which proposals to read while waiting for outcomes. Reading every pending proposal on every pass put the
/// tool's own reads into what it measured: at 100/s offered, a 30 s drain read each proposal about 60 times, eight
/// requests in flight for the whole drain, against the orchestrator and PostgreSQL the run was measuring. Every figure
/// comes from the server's history, so when a proposal is read does not change it: watch the newest few (the plane
/// works roughly in arrival order, so they end last), read the rest once when those are done, and read everything
/// once more when the drain runs out.
/// </summary>
public static class OutcomePolling
{
    /// <summary>How many of the newest pending proposals are watched on each pass.</summary>
    public const int Watched = 8;

    /// <summary>
    /// Reads until every item is done or <paramref name="drainOver"/> says the time is up; returns the items still not done.
    /// <paramref name="read"/> refreshes what <paramref name="done"/> sees; <paramref name="pause"/> waits between passes.
    /// </summary>
    public static async Task<IReadOnlyList<Accepted>> AwaitAsync(IReadOnlyList<Accepted> accepted, Func<IReadOnlyList<Accepted>, Task> read,
        Func<Accepted, bool> done, Func<bool> drainOver, Func<Task> pause)
    {
        ArgumentNullException.ThrowIfNull(accepted);
        ArgumentNullException.ThrowIfNull(read);
        ArgumentNullException.ThrowIfNull(done);
        ArgumentNullException.ThrowIfNull(drainOver);
        ArgumentNullException.ThrowIfNull(pause);
        var pending = accepted.Where(a => !done(a)).OrderBy(a => a.Index).ToList();
        while (pending.Count > 0)
        {
            var watched = pending.TakeLast(Watched).ToList();
            await read(watched);
            var over = drainOver();
            if (watched.TrueForAll(w => done(w)) || over)
            {
                await read(pending.SkipLast(Watched).ToList());
                pending = pending.Where(p => !done(p)).ToList();
                if (over)
                {
                    break;
                }

                continue; // the next newest are watched without a pause: most of them are done already
            }

            await pause();
        }

        return pending;
    }
}

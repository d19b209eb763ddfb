namespace ControlPlane.Load.Tests;

/// <summary>The drain reads the newest few until they end, then the rest once, and everything once more when time is up.</summary>
public sealed class OutcomePollingTests
{
    private static List<Accepted> Proposals(int count) =>
        [.. Enumerable.Range(0, count).Select(i => new Accepted(i, "testing-agent", "production", Guid.NewGuid()))];

    /// <summary>A plane that ends proposals in arrival order, <paramref name="perPass"/> per pause.</summary>
    private sealed class InOrderPlane(int perPass)
    {
        public int EndedBelow { get; private set; }

        public Dictionary<long, int> Reads { get; } = [];

        public HashSet<long> Seen { get; } = [];

        public Task Read(IReadOnlyList<Accepted> items)
        {
            foreach (var item in items)
            {
                Reads[item.Index] = Reads.GetValueOrDefault(item.Index) + 1;
                if (item.Index < EndedBelow)
                {
                    Seen.Add(item.Index);
                }
            }

            return Task.CompletedTask;
        }

        public bool Done(Accepted item) => Seen.Contains(item.Index);

        public Task Pause()
        {
            EndedBelow += perPass;
            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task Each_proposal_is_read_once_apart_from_the_newest_it_watches()
    {
        var proposals = Proposals(1000);
        var plane = new InOrderPlane(perPass: 50);

        var left = await OutcomePolling.AwaitAsync(proposals, plane.Read, plane.Done, () => false, plane.Pause);

        Assert.Empty(left);
        Assert.All(proposals.Take(1000 - OutcomePolling.Watched), p => Assert.Equal(1, plane.Reads[p.Index]));
        Assert.All(proposals.TakeLast(OutcomePolling.Watched), p => Assert.Equal(21, plane.Reads[p.Index])); // 20 pauses until index 999 ended
    }

    [Fact]
    public async Task A_plane_that_ends_older_proposals_later_is_read_until_they_end()
    {
        var proposals = Proposals(100);
        var slow = proposals.Where(p => p.Index % 10 == 0).Select(p => p.Index).ToHashSet(); // dev-like: ended after the rest
        var passes = 0;
        var seen = new HashSet<long>();
        Task Read(IReadOnlyList<Accepted> items)
        {
            foreach (var item in items.Where(i => !slow.Contains(i.Index) || passes >= 3))
            {
                seen.Add(item.Index);
            }

            return Task.CompletedTask;
        }

        var left = await OutcomePolling.AwaitAsync(proposals, Read, p => seen.Contains(p.Index), () => false, () =>
        {
            passes++;
            return Task.CompletedTask;
        });

        Assert.Empty(left);
        Assert.Equal(100, seen.Count);
    }

    [Fact]
    public async Task When_the_drain_runs_out_everything_pending_is_read_once_more_and_returned()
    {
        var proposals = Proposals(40);
        var plane = new InOrderPlane(perPass: 5);
        var pauses = 0;

        var left = await OutcomePolling.AwaitAsync(proposals, plane.Read, plane.Done, () => pauses >= 3, async () =>
        {
            pauses++;
            await plane.Pause();
        });

        Assert.Equal(Enumerable.Range(15, 25).Select(i => (long)i), left.Select(l => l.Index)); // 3 pauses ended 0-14
        Assert.All(proposals.Take(15), p => Assert.True(plane.Done(p)));
        Assert.All(proposals.Take(32), p => Assert.Equal(1, plane.Reads[p.Index])); // read once, at the end of the drain
    }

    [Fact]
    public async Task Nothing_to_wait_for_reads_nothing()
    {
        var reads = 0;
        var left = await OutcomePolling.AwaitAsync([], _ =>
        {
            reads++;
            return Task.CompletedTask;
        }, _ => true, () => false, () => Task.CompletedTask);

        Assert.Empty(left);
        Assert.Equal(0, reads);
    }
}

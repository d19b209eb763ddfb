namespace ControlPlane.SystemGraph.Graph;

public static partial class ImpactAnalyzer
{
    /// <summary>
    /// The traits of every touched node (the known targets in the order given, then the dependents in report order). The walk
    /// counts each node's traits id and team as it orders them (no branch on a node's attributes, no node record read);
    /// the few distinct traits then give every count, and one pass lists the first nodes of each trait, stopping as soon
    /// as every trait has its <see cref="ListedPerReason"/>.
    /// </summary>
    // Team and data-class ids are ranks in ordinal order, so reading them in id order yields the names sorted.
    private sealed class Touched
    {
        private const int RevenueTrait = NodeTraits.Revenue, ExposedTrait = NodeTraits.Exposed, Tier0Trait = NodeTraits.Tier0, Tier1Trait = NodeTraits.Tier1;
        private const int FirstClass = NodeTraits.FirstClass;

        private readonly bool[] _teams;
        private readonly int[] _count;
        private readonly int[] _listed;
        private readonly int[] _listedCount;
        private ulong _wanting;

        public Touched(GraphSnapshot graph)
        {
            _teams = new bool[graph.Teams.Count];
            _count = new int[FirstClass + graph.DataClasses.Count];
            _listedCount = new int[_count.Length];
            _listed = new int[_count.Length * ListedPerReason];
        }

        public int? HighestTier { get; private set; }

        public Tally Revenue => Of(RevenueTrait);

        public Tally Exposed => Of(ExposedTrait);

        public Tally Tier0 => Of(Tier0Trait);

        public Tally Tier1 => Of(Tier1Trait);

        /// <summary>Per team id, whether a touched node belongs to it; the walk marks them.</summary>
        public Span<bool> Teams => _teams;

        /// <summary>From the walk's count of touched nodes per traits id: every trait's count and first nodes.</summary>
        public void Tally(GraphSnapshot graph, ImpactWalk walk, ReadOnlySpan<int> perTraits)
        {
            var facts = graph.Facts;
            var nodes = walk.Nodes;

            var highest = int.MaxValue;
            // Per traits id, its traits as bits; a node is visited for listing only if one of them still lists fewer
            // than it may, so the nodes before the rare traits' first few cost one load and a test each.
            var bits = perTraits.Length <= 128 ? stackalloc ulong[perTraits.Length] : new ulong[perTraits.Length];
            for (var id = 0; id < perTraits.Length; id++)
            {
                if (perTraits[id] > 0)
                {
                    highest = Math.Min(highest, graph.Traits[id].Tier);
                    bits[id] = Count(graph.Traits[id], perTraits[id]);
                    _wanting |= bits[id];
                }
            }

            var unlisted = 0;
            foreach (var count in _count)
            {
                unlisted += Math.Min(count, ListedPerReason);
            }

            for (var chunk = 0; unlisted > 0; chunk++)
            {
                var part = nodes.Chunk(chunk);
                var start = nodes.ChunkStart(chunk);
                for (var i = 0; i < part.Length && unlisted > 0; i++)
                {
                    var id = facts[part[i]].Traits;
                    if ((bits[id] & _wanting) != 0)
                    {
                        unlisted -= List(graph.Traits[id], start + i);
                    }
                }
            }

            HighestTier = nodes.Length == 0 ? null : highest;
        }

        /// <summary>Counts <paramref name="count"/> nodes with these traits; returns the traits as bits.</summary>
        private ulong Count(NodeTraits traits, int count)
        {
            foreach (var category in traits.Categories)
            {
                _count[category] += count;
            }

            return traits.Bits;
        }

        /// <summary>Lists the node at <paramref name="position"/> where one of its traits still lists fewer than it may; returns how many it listed.</summary>
        private int List(NodeTraits traits, int position)
        {
            var listed = 0;
            foreach (var category in traits.Categories)
            {
                listed += List(category, position);
            }

            return listed;
        }

        private int List(int trait, int position)
        {
            var listed = _listedCount[trait];
            var wanted = Math.Min(_count[trait], ListedPerReason);
            if (listed >= wanted)
            {
                return 0;
            }

            _listed[(trait * ListedPerReason) + listed] = position;
            _listedCount[trait] = listed + 1;
            if (listed + 1 == wanted && trait < 63)
            {
                _wanting &= ~NodeTraits.Bit(trait);
            }

            return 1;
        }

        // Names as arrays of their exact length: counted first, so no list grows and is copied on the way.
        public string[] DataClassNames(GraphSnapshot graph)
        {
            var classes = _count.AsSpan(FirstClass);
            var names = new string[classes.Length - classes.Count(0)];
            var n = 0;
            for (var i = 0; i < classes.Length; i++)
            {
                if (classes[i] > 0)
                {
                    names[n++] = graph.DataClasses[i];
                }
            }

            return names;
        }

        public string[] TeamNames(GraphSnapshot graph)
        {
            var names = new string[_teams.Length - _teams.AsSpan().Count(false)];
            var n = 0;
            for (var i = 0; i < _teams.Length; i++)
            {
                if (_teams[i])
                {
                    names[n++] = graph.Teams[i];
                }
            }

            return names;
        }

        public Tally WithClass(int dataClass) => Of(NodeTraits.FirstClass + dataClass);

        private Tally Of(int category) => new(_listed, category * ListedPerReason, _count[category]);
    }
}

namespace ControlPlane.SystemGraph.Graph;

/// <summary>
/// A fixed run of ints kept in arrays of at most 64 KB, under the large-object threshold (85,000 bytes). A blast
/// radius on a 100k-node graph keeps two runs of ~95k ints for as long as its report lives; as plain arrays each
/// assessment put 760 KB on the large-object heap, which only a gen-2 collection reclaims (one every ~128 calls).
/// Chunks are ordinary young objects that die with the report in a cheap gen-0 collection.
/// </summary>
internal sealed class IntChunks
{
    private const int Shift = 14;
    private const int ChunkLength = 1 << Shift;
    // Most runs fit one chunk, kept without the array of chunks around it (one object fewer per run).
    private readonly int[]? _single;
    private readonly int[][]? _chunks;

    /// <summary>A copy of <paramref name="values"/>.</summary>
    public IntChunks(ReadOnlySpan<int> values)
    {
        Length = values.Length;
        if (values.Length <= ChunkLength)
        {
            _single = values.ToArray();
            return;
        }

        _chunks = new int[(values.Length + ChunkLength - 1) >> Shift][];
        for (var c = 0; c < _chunks.Length; c++)
        {
            var part = values.Slice(c << Shift, Math.Min(ChunkLength, values.Length - (c << Shift)));
            // Every element is written just below, so the runtime need not zero it first.
            _chunks[c] = GC.AllocateUninitializedArray<int>(part.Length);
            part.CopyTo(_chunks[c]);
        }
    }

    public int Length { get; }

    public int ChunkCount => _single is null ? _chunks!.Length : 1;

    public int this[int index] => _single is { } single ? single[index] : _chunks![index >> Shift][index & (ChunkLength - 1)];

    public ReadOnlySpan<int> Chunk(int chunk) => _single ?? _chunks![chunk];

    /// <summary>The index of the first element of <paramref name="chunk"/>.</summary>
    public int ChunkStart(int chunk) => chunk << Shift;

    /// <summary>Where <paramref name="value"/> is in [start, start + length), which holds it and is in ascending order.</summary>
    public int BinarySearch(int start, int length, int value)
    {
        var low = start;
        var high = start + length - 1;
        while (low <= high)
        {
            var middle = low + ((high - low) >> 1);
            var at = this[middle];
            if (at == value)
            {
                return middle;
            }

            if (at < value)
            {
                low = middle + 1;
            }
            else
            {
                high = middle - 1;
            }
        }

        return -1;
    }

    /// <summary>Where <paramref name="value"/> first is in [start, start + length), or -1.</summary>
    public int IndexOf(int start, int length, int value)
    {
        for (var i = start; i < start + length; i++)
        {
            if (this[i] == value)
            {
                return i;
            }
        }

        return -1;
    }
}

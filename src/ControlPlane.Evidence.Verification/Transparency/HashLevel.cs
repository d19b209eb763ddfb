namespace ControlPlane.Evidence.Verification.Transparency;

/// <summary>
/// One of a <see cref="MerkleTree"/>'s levels above its tiles: its hashes back to back in pages of
/// <see cref="PageHashes"/> hashes, not one array object per hash (nothing for the collector to trace). Full pages
/// are never copied; only the first page grows (doubling) until it is full, so a small tree stays small.
/// </summary>
internal sealed class HashLevel
{
    public const int PageHashes = 2048; // 64 KB a page: under the large-object threshold
    private const int PageShift = 11;

    private readonly List<byte[]> _pages = [new byte[MerkleHash.Size * 4]];

    public int Count { get; private set; }

    public ReadOnlySpan<byte> this[int index]
    {
        get
        {
            if ((uint)index >= (uint)Count)
            {
                throw new ArgumentOutOfRangeException(nameof(index), index, $"The level holds {Count} hashes.");
            }

            return _pages[index >> PageShift].AsSpan((index & (PageHashes - 1)) * MerkleHash.Size, MerkleHash.Size);
        }
    }

    public void Add(ReadOnlySpan<byte> hash)
    {
        var page = Count >> PageShift;
        var offset = (Count & (PageHashes - 1)) * MerkleHash.Size;
        if (page == _pages.Count)
        {
            _pages.Add(new byte[PageHashes * MerkleHash.Size]);
        }
        else if (offset == _pages[page].Length)
        {
            // Only the first page is ever short: grow it towards a full page.
            var grown = new byte[Math.Min(_pages[page].Length * 2, PageHashes * MerkleHash.Size)];
            _pages[page].CopyTo(grown, 0);
            _pages[page] = grown;
        }

        hash.CopyTo(_pages[page].AsSpan(offset, MerkleHash.Size));
        Count++;
    }
}

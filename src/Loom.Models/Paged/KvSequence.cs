// One sequence's view of the paged cache: its block table (block ids in position order) and the
// number of positions cached. Position p lives in block Blocks[p / block_size], slot p % block_size.
namespace Loom.Models.Paged;

/// <summary>A sequence's block table in a <see cref="KvBlockPool"/>.</summary>
public sealed class KvSequence
{
    private readonly List<int> _blocks = new();

    /// <summary>The pool its blocks come from.</summary>
    public KvBlockPool Pool { get; }

    /// <summary>Positions cached so far (the next token runs at this position).</summary>
    public int Length { get; internal set; }

    /// <summary>Block ids in position order.</summary>
    public IReadOnlyList<int> Blocks => _blocks;

    /// <summary>Positions the blocks held now can take.</summary>
    public int Capacity => _blocks.Count * Pool.BlockSize;

    public KvSequence(KvBlockPool pool) => Pool = pool;

    /// <summary>Blocks needed to grow to <paramref name="positions"/> cached positions.</summary>
    public int BlocksNeeded(int positions) => Math.Max(0, (positions + Pool.BlockSize - 1) / Pool.BlockSize - _blocks.Count);

    /// <summary>
    /// Takes blocks until <paramref name="positions"/> fit; all or nothing: false (and nothing taken)
    /// when the pool has too few free blocks.
    /// </summary>
    public bool TryReserve(int positions)
    {
        int need = BlocksNeeded(positions);
        if (need > Pool.FreeBlocks) return false;
        for (int i = 0; i < need; i++)
        {
            Pool.TryAllocate(out int b);
            _blocks.Add(b);
        }
        return true;
    }

    /// <summary>Returns every block to the pool and forgets the cached positions.</summary>
    public void Release()
    {
        foreach (int b in _blocks) Pool.Free(b);
        _blocks.Clear();
        Length = 0;
    }

    /// <summary>Copies the block table to <paramref name="destination"/>; returns the count.</summary>
    internal int CopyBlocks(Span<int> destination)
    {
        for (int i = 0; i < _blocks.Count; i++) destination[i] = _blocks[i];
        return _blocks.Count;
    }
}

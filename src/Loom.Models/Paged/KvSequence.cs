// One sequence's view of the paged cache: its block table (block ids in position order) and the
// number of positions cached. Position p lives in block Blocks[p / block_size], slot p % block_size.
namespace Loom.Models.Paged;

/// <summary>A sequence's block table in a <see cref="KvBlockPool"/>.</summary>
public sealed class KvSequence
{
    private readonly List<int> _blocks = new();
    private int _registeredBlocks;   // leading blocks registered in (or reused from) the pool's prefix cache
    private long _lastHash;          // chained hash of the last of them (0: none)

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

    /// <summary>
    /// For a sequence holding no blocks yet: takes references to the pool's cached blocks that hold the
    /// longest run of whole leading blocks of <paramref name="prompt"/> (never its last token, whose logits
    /// the caller needs), and sets Length past them. Returns the positions reused (0 when prefix caching
    /// is off or nothing matches).
    /// </summary>
    public int AttachPrefix(ReadOnlySpan<int> prompt)
    {
        if (_blocks.Count != 0) throw new InvalidOperationException("AttachPrefix is for a sequence that holds no blocks yet.");
        if (!Pool.PrefixCaching) return 0;
        int bs = Pool.BlockSize, full = (prompt.Length - 1) / bs;
        long parent = 0;
        for (int b = 0; b < full; b++)
        {
            var tokens = prompt.Slice(b * bs, bs);
            long hash = KvBlockPool.Hash(parent, tokens);
            if (!Pool.TryReuse(hash, parent, tokens, out int block)) break;
            _blocks.Add(block);
            parent = hash;
        }
        _registeredBlocks = _blocks.Count;
        _lastHash = parent;
        Length = _blocks.Count * bs;
        return Length;
    }

    /// <summary>
    /// Registers in the pool's prefix cache every block that is now full and holds only ids of
    /// <paramref name="prompt"/> (call after a forward advanced Length); nothing when prefix caching is off.
    /// </summary>
    public void RegisterPromptBlocks(ReadOnlySpan<int> prompt)
    {
        if (!Pool.PrefixCaching) return;
        int bs = Pool.BlockSize, full = Math.Min(Length, prompt.Length) / bs;
        for (int b = _registeredBlocks; b < full; b++)
        {
            var tokens = prompt.Slice(b * bs, bs);
            long hash = KvBlockPool.Hash(_lastHash, tokens);
            Pool.Register(_blocks[b], hash, _lastHash, tokens);
            _lastHash = hash;
        }
        if (full > _registeredBlocks) _registeredBlocks = full;
    }

    /// <summary>Returns every block to the pool (cached prefix blocks stay cached) and forgets the cached positions.</summary>
    public void Release()
    {
        foreach (int b in _blocks) Pool.Free(b);
        _blocks.Clear();
        Length = 0;
        _registeredBlocks = 0;
        _lastHash = 0;
    }

    /// <summary>Copies the block table to <paramref name="destination"/>; returns the count.</summary>
    internal int CopyBlocks(Span<int> destination)
    {
        for (int i = 0; i < _blocks.Count; i++) destination[i] = _blocks[i];
        return _blocks.Count;
    }
}

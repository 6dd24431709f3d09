// The paged key/value cache of vLLM's PagedAttention (Kwon et al. 2023, "Efficient Memory Management
// for Large Language Model Serving with PagedAttention"): one native allocation cut into fixed-size
// blocks of block_size positions; a sequence owns a list of blocks (its block table) instead of one
// contiguous max-length cache, so memory is committed block by block as sequences grow and no
// sequence reserves the context length up front. Blocks are handed out from a free list (LIFO, so a
// freed block is reused while it is still warm in cache) and the used/free counters are exact.
//
// Layout of one block (floats):  (L, 2, NKV, block_size, hd)  — layer, K/V, kv-head, slot, dim;
// a head's keys for the block's positions are contiguous, as attention reads them.
// Not thread-safe: the engine's one model thread allocates and frees.
using Loom.Core.Tensors;

namespace Loom.Models.Paged;

/// <summary>A fixed pool of key/value blocks sized from a byte budget.</summary>
public sealed unsafe class KvBlockPool : IDisposable
{
    private readonly NativeBuffer _memory;
    private readonly int[] _free;      // stack of free block ids
    private readonly bool[] _inUse;    // catches double frees
    private int _freeCount;

    /// <summary>What one position holds.</summary>
    public KvCacheShape Shape { get; }

    /// <summary>Positions per block.</summary>
    public int BlockSize { get; }

    /// <summary>Blocks in the pool.</summary>
    public int TotalBlocks { get; }

    /// <summary>Blocks on the free list.</summary>
    public int FreeBlocks => _freeCount;

    /// <summary>Blocks held by sequences.</summary>
    public int UsedBlocks => TotalBlocks - _freeCount;

    /// <summary>Floats in one block: block_size × layers × 2 × kv-heads × head_dim.</summary>
    public long BlockFloats { get; }

    /// <summary>Bytes of the one native allocation.</summary>
    public long Bytes => _memory.ByteLength;

    /// <summary>A pool of as many whole blocks as fit in <paramref name="budgetBytes"/> (at least one).</summary>
    public KvBlockPool(KvCacheShape shape, int blockSize, long budgetBytes)
    {
        if (blockSize < 1) throw new ArgumentOutOfRangeException(nameof(blockSize), blockSize, "The KV block size must be at least 1 position.");
        Shape = shape;
        BlockSize = blockSize;
        BlockFloats = shape.FloatsPerPosition * blockSize;
        long blockBytes = BlockFloats * sizeof(float);
        long blocks = budgetBytes / blockBytes;
        if (blocks < 1)
            throw new ArgumentException($"The KV cache budget of {budgetBytes / (1024.0 * 1024.0):0.###} MB holds no block of {blockSize} positions ({blockBytes / (1024.0 * 1024.0):0.###} MB each); raise the budget (--kv-cache-mb) or lower the block size.", nameof(budgetBytes));
        if (blocks > int.MaxValue / 2) blocks = int.MaxValue / 2;
        TotalBlocks = (int)blocks;
        _memory = new NativeBuffer(blocks * blockBytes, zero: false);
        _free = new int[TotalBlocks];
        _inUse = new bool[TotalBlocks];
        // Block 0 on top: the first sequences get the low blocks.
        for (int i = 0; i < TotalBlocks; i++) _free[i] = TotalBlocks - 1 - i;
        _freeCount = TotalBlocks;
    }

    /// <summary>A pool sized from a budget in mebibytes (the --kv-cache-mb option).</summary>
    public static KvBlockPool FromMegabytes(KvCacheShape shape, int blockSize, double megabytes)
    {
        if (!(megabytes > 0) || double.IsInfinity(megabytes))
            throw new ArgumentException($"The KV cache budget must be a positive number of MB; got {megabytes}.", nameof(megabytes));
        return new KvBlockPool(shape, blockSize, (long)(megabytes * 1024 * 1024));
    }

    /// <summary>Takes a free block; false when none is left.</summary>
    public bool TryAllocate(out int block)
    {
        if (_freeCount == 0) { block = -1; return false; }
        block = _free[--_freeCount];
        _inUse[block] = true;
        return true;
    }

    /// <summary>Returns <paramref name="block"/> to the free list.</summary>
    public void Free(int block)
    {
        if ((uint)block >= (uint)TotalBlocks) throw new ArgumentOutOfRangeException(nameof(block), block, $"Block ids run from 0 to {TotalBlocks - 1}.");
        if (!_inUse[block]) throw new InvalidOperationException($"KV block {block} is already free (freed twice).");
        _inUse[block] = false;
        _free[_freeCount++] = block;
    }

    /// <summary>Start of the pool's memory (blocks back to back).</summary>
    public float* Base => (float*)_memory.Pointer;

    /// <summary>
    /// Keys (<paramref name="kind"/> 0) or values (1) of one kv-head of one layer in one block:
    /// (block_size, head_dim).
    /// </summary>
    public Span<float> Slot(int block, int layer, int kind, int kvHead)
    {
        if ((uint)block >= (uint)TotalBlocks) throw new ArgumentOutOfRangeException(nameof(block));
        long offset = block * BlockFloats + (((long)layer * 2 + kind) * Shape.KvHeads + kvHead) * BlockSize * Shape.HeadDim;
        return new Span<float>(Base + offset, BlockSize * Shape.HeadDim);
    }

    public void Dispose() => _memory.Dispose();
}

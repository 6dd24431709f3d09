// The paged key/value cache of vLLM's PagedAttention (Kwon et al. 2023, "Efficient Memory Management
// for Large Language Model Serving with PagedAttention"): one native allocation cut into fixed-size
// blocks of block_size positions; a sequence owns a list of blocks (its block table) instead of one
// contiguous max-length cache, so memory is committed block by block as sequences grow and no
// sequence reserves the context length up front. Blocks are handed out from a free list (LIFO, so a
// freed block is reused while it is still warm in cache) and the used/free counters are exact.
//
// Prefix caching (vLLM's automatic prefix caching; Kwon et al. 2023 §4.4 "shared prefix"): with
// PrefixCaching on, a full block of prompt tokens can be registered under a hash of its tokens and
// of the hash of the block before it (so the hash names the whole prefix up to the block's end).
// Blocks are reference-counted: a later sequence whose prompt starts with the same blocks takes
// references to them instead of recomputing them. Only full, immutable prompt blocks are shared, so
// no copy-on-write is needed. A registered block whose last reference goes stays cached — counted as
// free, on an LRU list — and is evicted (its hash forgotten) only when an allocation finds the free
// list empty. A lookup checks the block's tokens and its parent's hash, so a 64-bit hash collision of
// the dictionary can only miss, never hand out a block of other tokens.
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
    private readonly int[] _free;      // stack of free block ids (never registered, or evicted)
    private readonly int[] _refs;      // (blocks) references held by sequences; 0: free or cached
    private int _freeCount;

    // Prefix cache (only with PrefixCaching): registered blocks by hash, their tokens and parent hash,
    // and the LRU list of registered blocks no sequence references (evictable, counted as free).
    private readonly Dictionary<long, int> _byHash = new();
    private readonly long[] _hash;        // (blocks) the registered hash
    private readonly long[] _parentHash;  // (blocks) hash of the block before it (0 for a first block)
    private readonly bool[] _registered;  // (blocks)
    private readonly int[] _tokens;       // (blocks, block_size) token ids of a registered block
    private readonly int[] _lruPrev, _lruNext;   // intrusive doubly linked LRU list, oldest at _lruHead
    private int _lruHead = -1, _lruTail = -1, _lruCount;

    /// <summary>What one position holds.</summary>
    public KvCacheShape Shape { get; }

    /// <summary>Positions per block.</summary>
    public int BlockSize { get; }

    /// <summary>Blocks in the pool.</summary>
    public int TotalBlocks { get; }

    /// <summary>Blocks an allocation can take: the free list plus cached blocks no sequence references.</summary>
    public int FreeBlocks => _freeCount + _lruCount;

    /// <summary>Registered prefix blocks no sequence references (cached, evictable; part of <see cref="FreeBlocks"/>).</summary>
    public int CachedBlocks => _lruCount;

    /// <summary>Whether full prompt blocks are registered and shared (off: Register and TryReuse do nothing).</summary>
    public bool PrefixCaching { get; set; }

    /// <summary>Cached blocks evicted to make room since the pool was made.</summary>
    public long Evictions { get; private set; }

    /// <summary>Blocks held by sequences (cached blocks nobody holds are free).</summary>
    public int UsedBlocks => TotalBlocks - FreeBlocks;

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
        _refs = new int[TotalBlocks];
        _hash = new long[TotalBlocks];
        _parentHash = new long[TotalBlocks];
        _registered = new bool[TotalBlocks];
        _lruPrev = new int[TotalBlocks];
        _lruNext = new int[TotalBlocks];
        _tokens = new int[checked(TotalBlocks * blockSize)];
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

    /// <summary>Takes a free block (evicting the least recently used cached block when the free list is empty); false when none is left.</summary>
    public bool TryAllocate(out int block)
    {
        if (_freeCount > 0) block = _free[--_freeCount];
        else if (_lruHead >= 0)
        {
            block = _lruHead;
            LruRemove(block);
            Unregister(block);
            Evictions++;
        }
        else { block = -1; return false; }
        _refs[block] = 1;
        return true;
    }

    /// <summary>
    /// Drops one reference to <paramref name="block"/>; at the last one the block goes back to the free
    /// list, or — a registered prefix block — to the tail of the LRU list of cached blocks.
    /// </summary>
    public void Free(int block)
    {
        if ((uint)block >= (uint)TotalBlocks) throw new ArgumentOutOfRangeException(nameof(block), block, $"Block ids run from 0 to {TotalBlocks - 1}.");
        if (_refs[block] == 0) throw new InvalidOperationException($"KV block {block} is already free (freed twice).");
        if (--_refs[block] > 0) return;
        if (_registered[block]) LruAppend(block);
        else _free[_freeCount++] = block;
    }

    /// <summary>References sequences hold to <paramref name="block"/> (0: free or cached).</summary>
    public int References(int block) => _refs[block];

    /// <summary>
    /// The chained hash of a block of <paramref name="tokens"/> after a prefix whose last block hashed to
    /// <paramref name="parentHash"/> (0 before the first block): FNV-1a over the parent hash and the ids,
    /// then a 64-bit finaliser (splitmix64) so neighbouring prompts spread over the dictionary.
    /// </summary>
    public static long Hash(long parentHash, ReadOnlySpan<int> tokens)
    {
        ulong h = 14695981039346656037UL ^ (ulong)parentHash;
        h *= 1099511628211UL;
        foreach (int t in tokens) { h ^= (uint)t; h *= 1099511628211UL; }
        h ^= h >> 30; h *= 0xbf58476d1ce4e5b9UL;
        h ^= h >> 27; h *= 0x94d049bb133111ebUL;
        h ^= h >> 31;
        return (long)h;
    }

    /// <summary>
    /// Registers <paramref name="block"/> (held by the caller, holding <paramref name="tokens"/>, a full
    /// block of prompt ids already written) under <paramref name="hash"/> so later prompts can share it.
    /// Does nothing when prefix caching is off or another block already holds that hash.
    /// </summary>
    public void Register(int block, long hash, long parentHash, ReadOnlySpan<int> tokens)
    {
        if (!PrefixCaching || _registered[block] || _byHash.ContainsKey(hash)) return;
        if (tokens.Length != BlockSize) throw new ArgumentException($"Only full blocks are shared: {tokens.Length} tokens for blocks of {BlockSize}.");
        if (_refs[block] == 0) throw new InvalidOperationException($"KV block {block} is not held by any sequence; register blocks a sequence holds.");
        _byHash[hash] = block;
        _hash[block] = hash;
        _parentHash[block] = parentHash;
        _registered[block] = true;
        tokens.CopyTo(_tokens.AsSpan(block * BlockSize, BlockSize));
    }

    /// <summary>
    /// A cached block holding <paramref name="tokens"/> after the prefix hashed <paramref name="parentHash"/>,
    /// with one more reference taken (out of the LRU list if nobody held it); false on a miss.
    /// </summary>
    public bool TryReuse(long hash, long parentHash, ReadOnlySpan<int> tokens, out int block)
    {
        block = -1;
        if (!PrefixCaching || !_byHash.TryGetValue(hash, out int b)) return false;
        if (_parentHash[b] != parentHash || !tokens.SequenceEqual(_tokens.AsSpan(b * BlockSize, BlockSize))) return false;
        if (_refs[b]++ == 0) LruRemove(b);
        block = b;
        return true;
    }

    private void Unregister(int block)
    {
        _byHash.Remove(_hash[block]);
        _registered[block] = false;
    }

    private void LruAppend(int block)
    {
        _lruPrev[block] = _lruTail;
        _lruNext[block] = -1;
        if (_lruTail >= 0) _lruNext[_lruTail] = block; else _lruHead = block;
        _lruTail = block;
        _lruCount++;
    }

    private void LruRemove(int block)
    {
        int prev = _lruPrev[block], next = _lruNext[block];
        if (prev >= 0) _lruNext[prev] = next; else _lruHead = next;
        if (next >= 0) _lruPrev[next] = prev; else _lruTail = prev;
        _lruCount--;
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

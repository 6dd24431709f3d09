// Prefix caching in the KV block pool: reference counts, registration of full prompt blocks under a
// chained hash, reuse only on equal tokens after an equal prefix, cached blocks counted free and
// evicted least recently used first; and a sequence that starts from another's cached blocks and
// prefills only the rest gets the logits of the full forward pass (itself checked against PyTorch).
using Loom.Models.Paged;
using Loom.Models.Tests.Gpt2;

namespace Loom.Models.Tests.Paged;

public class KvPrefixCacheTests
{
    private static KvBlockPool Pool(int blocks, int blockSize = 4)
    {
        var shape = new KvCacheShape(Layers: 1, KvHeads: 1, HeadDim: 4);
        return new KvBlockPool(shape, blockSize, blocks * blockSize * shape.FloatsPerPosition * sizeof(float)) { PrefixCaching = true };
    }

    private static void Fill(KvSequence s, int[] prompt)
    {
        Assert.True(s.TryReserve(prompt.Length));
        s.Length = prompt.Length;   // as a forward over the prompt would
        s.RegisterPromptBlocks(prompt);
    }

    [Fact]
    public void FullPromptBlocksAreSharedByReferenceAndCountedFreeWhenUnheld()
    {
        using var pool = Pool(8);
        int[] prompt = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];   // two full blocks + 2 tokens
        var a = new KvSequence(pool);
        Fill(a, prompt);
        Assert.Equal(3, pool.UsedBlocks);
        var b = new KvSequence(pool);
        Assert.Equal(8, b.AttachPrefix(prompt));           // both full blocks, not the partial third
        Assert.Equal(a.Blocks.Take(2), b.Blocks);
        Assert.Equal(2, pool.References(a.Blocks[0]));
        Assert.Equal(3, pool.UsedBlocks);                   // shared, not copied
        var c = new KvSequence(pool);
        Assert.Equal(4, c.AttachPrefix([1, 2, 3, 4, 5, 6, 7, 0, 9]));   // the second block differs in one id
        Assert.Equal(0, new KvSequence(pool).AttachPrefix([9, 2, 3, 4, 5, 6, 7, 8, 9]));   // equal second block after another first one: no match
        Assert.Equal(0, new KvSequence(pool).AttachPrefix([1, 2, 3, 4]));   // the last prompt token is always computed
        a.Release(); b.Release(); c.Release();
        Assert.Equal(0, pool.UsedBlocks);
        Assert.Equal(2, pool.CachedBlocks);                 // the two registered blocks stay, counted free
        Assert.Equal(8, pool.FreeBlocks);
        var d = new KvSequence(pool);
        Assert.Equal(8, d.AttachPrefix(prompt));            // still there after every holder left
        Assert.Equal(0, pool.CachedBlocks);
        Assert.Equal(1, pool.References(d.Blocks[0]));
        d.Release();
        Assert.Throws<InvalidOperationException>(() => pool.Free(d.Blocks.Count == 0 ? 0 : d.Blocks[0]));
    }

    [Fact]
    public void CachedBlocksAreEvictedLeastRecentlyUsedFirstWhenThePoolRunsOut()
    {
        using var pool = Pool(4);
        int[] p1 = [1, 1, 1, 1, 9], p2 = [2, 2, 2, 2, 9];
        var a = new KvSequence(pool); Fill(a, p1); a.Release();   // p1's block cached first (oldest)
        var b = new KvSequence(pool); Fill(b, p2); b.Release();
        Assert.Equal(2, pool.CachedBlocks);
        Assert.Equal(4, pool.FreeBlocks);
        var big = new KvSequence(pool);
        Assert.True(big.TryReserve(12));                    // 3 blocks: 2 from the free list, then p1's evicted
        Assert.Equal(1, pool.Evictions);
        Assert.Equal(0, new KvSequence(pool).AttachPrefix(p1));
        var again = new KvSequence(pool);
        Assert.Equal(4, again.AttachPrefix(p2));            // p2's survived
        Assert.False(new KvSequence(pool).TryReserve(1));   // every block is held now
        big.Release(); again.Release();
        Assert.Equal(0, pool.UsedBlocks);
    }

    [Fact]
    public void WithoutPrefixCachingNothingIsShared()
    {
        using var pool = Pool(8);
        pool.PrefixCaching = false;
        int[] prompt = [1, 2, 3, 4, 5, 6, 7, 8, 9];
        var a = new KvSequence(pool);
        Fill(a, prompt);
        Assert.Equal(0, new KvSequence(pool).AttachPrefix(prompt));
        a.Release();
        Assert.Equal(0, pool.CachedBlocks);
        Assert.Equal(8, pool.FreeBlocks);
    }

    [Fact]
    public void ASequenceStartingFromCachedBlocksGetsTheFullForwardsLogits()
    {
        var (model, file, _, _) = Gpt2ReferenceTests.Load();
        using var _m = model; using var _f = file;
        var decoder = (IBatchedDecoder)model;
        int V = model.VocabularySize;
        var rng = new Random(8);
        int[] shared = Enumerable.Range(0, 7).Select(_ => rng.Next(V)).ToArray();
        int[] first = [.. shared, rng.Next(V), rng.Next(V)], second = [.. shared, rng.Next(V), rng.Next(V), rng.Next(V)];
        using var pool = new KvBlockPool(decoder.KvShape, blockSize: 3, budgetBytes: 16 * 1024 * 1024) { PrefixCaching = true };
        var logits = new float[V];
        var a = new KvSequence(pool);
        Assert.True(a.TryReserve(first.Length));
        decoder.Prefill([a], [first], logits);
        a.RegisterPromptBlocks(first);
        var b = new KvSequence(pool);
        int reused = b.AttachPrefix(second);
        Assert.Equal(6, reused);                              // two whole blocks of the 7 shared ids
        Assert.True(b.TryReserve(second.Length));
        decoder.Prefill([b], [second[reused..]], logits);     // only the rest is computed
        Assert.Equal(second.Length, b.Length);
        model.Forward(second, default, 1, second.Length);
        Gpt2ReferenceTests.AssertClose(model.Logits.Slice((second.Length - 1) * V, V), logits, "logits after a cached prefix", 1e-5);
        // And decoding on from there still matches.
        int next = rng.Next(V);
        Assert.True(b.TryReserve(second.Length + 1));
        decoder.DecodeStep([b], [next], logits);
        int[] longer = [.. second, next];
        model.Forward(longer, default, 1, longer.Length);
        Gpt2ReferenceTests.AssertClose(model.Logits.Slice((longer.Length - 1) * V, V), logits, "decoding after a cached prefix", 1e-5);
        a.Release(); b.Release();
        Assert.Equal(0, pool.UsedBlocks);
    }
}

// The paged KV cache (IBatchedDecoder) against the full forward pass, which is itself checked against
// PyTorch (Gpt2ReferenceTests, LlamaReferenceTests): with a block size smaller than the sequence, so
// every sequence spans several blocks, the logits of paged decoding equal the full forward's at every
// position; a prefill of the whole prompt in one call gives the last position's; sequences of
// different lengths run together give what each gives alone; every block returns to the pool.
using Loom.Models.Gpt2;
using Loom.Models.Llama;
using Loom.Models.Paged;
using Loom.Models.Tests.Gpt2;
using Loom.Models.Tests.Llama;

namespace Loom.Models.Tests.Paged;

public class PagedDecodingTests
{
    public static TheoryData<string> Families => new() { "gpt2", "llama" };

    private static (ICausalLanguageModel Model, IDisposable File) Load(string family)
    {
        if (family == "gpt2") { var (m, f, _, _) = Gpt2ReferenceTests.Load(); return (m, f); }
        var (lm, lf, _, _) = LlamaReferenceTests.Load();
        return (lm, lf);
    }

    private static int[] RandomIds(int count, int vocab, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => rng.Next(vocab)).ToArray();
    }

    private static float[] FullForward(ICausalLanguageModel model, int[] ids)
    {
        model.Forward(ids, default, 1, ids.Length);
        return model.Logits.ToArray();
    }

    [Theory, MemberData(nameof(Families))]
    public void PagedDecodingEqualsTheFullForwardAtEveryPositionAcrossBlocks(string family)
    {
        var (model, file) = Load(family);
        using var _m = model; using var _f = file;
        var decoder = (IBatchedDecoder)model;   // what shared code does: `model as IBatchedDecoder`
        int T = model.ContextLength, V = model.VocabularySize;
        int[] ids = RandomIds(T, V, 5);
        float[] full = FullForward(model, ids);
        using var pool = new KvBlockPool(decoder.KvShape, blockSize: 3, budgetBytes: 64 * 1024 * 1024);
        var seq = new KvSequence(pool);
        var logits = new float[V];
        for (int pos = 0; pos < T; pos++)
        {
            Assert.True(seq.TryReserve(pos + 1));
            decoder.DecodeStep([seq], [ids[pos]], logits);
            Gpt2ReferenceTests.AssertClose(full.AsSpan(pos * V, V), logits, $"{family} paged logits at position {pos}", 1e-5);
        }
        Assert.Equal(T, seq.Length);
        Assert.Equal((T + 2) / 3, seq.Blocks.Count);
        Assert.Equal((T + 2) / 3, pool.UsedBlocks);
        // The context is full: one more token is refused before anything is written.
        Assert.True(seq.TryReserve(T + 1));
        Assert.Throws<ArgumentException>(() => decoder.DecodeStep([seq], [0], logits));
        seq.Release();
        Assert.Equal(0, pool.UsedBlocks);
        Assert.Equal(pool.TotalBlocks, pool.FreeBlocks);
    }

    [Theory, MemberData(nameof(Families))]
    public void APrefillInOneCallThenDecodingEqualsTheFullForward(string family)
    {
        var (model, file) = Load(family);
        using var _m = model; using var _f = file;
        var decoder = (IBatchedDecoder)model;
        int T = model.ContextLength, V = model.VocabularySize, prompt = T / 2 + 1;
        int[] ids = RandomIds(T, V, 7);
        float[] full = FullForward(model, ids);
        using var pool = new KvBlockPool(decoder.KvShape, blockSize: 4, budgetBytes: 1 << 20);
        var seq = new KvSequence(pool);
        var logits = new float[V];
        Assert.True(seq.TryReserve(prompt));
        decoder.Prefill([seq], [ids[..prompt]], logits);
        Gpt2ReferenceTests.AssertClose(full.AsSpan((prompt - 1) * V, V), logits, $"{family} prefill logits", 1e-5);
        for (int pos = prompt; pos < T; pos++)
        {
            Assert.True(seq.TryReserve(pos + 1));
            decoder.DecodeStep([seq], [ids[pos]], logits);
            Gpt2ReferenceTests.AssertClose(full.AsSpan(pos * V, V), logits, $"{family} logits at {pos} after prefill", 1e-5);
        }
        seq.Release();
        Assert.Equal(0, pool.UsedBlocks);
    }

    [Theory, MemberData(nameof(Families))]
    public void SequencesOfDifferentLengthsRunTogetherEqualEachRunAlone(string family)
    {
        var (model, file) = Load(family);
        using var _m = model; using var _f = file;
        var decoder = (IBatchedDecoder)model;
        int T = model.ContextLength, V = model.VocabularySize;
        int[] lengths = [1, 5, T - 3, 9];
        int steps = 3;
        var all = lengths.Select((l, i) => RandomIds(l + steps, V, 100 + i)).ToArray();
        using var pool = new KvBlockPool(decoder.KvShape, blockSize: 2, budgetBytes: 1 << 20);

        // Alone: each sequence prefilled then decoded by itself; the reference is the full forward.
        var expected = new List<float[]>();
        for (int i = 0; i < lengths.Length; i++)
        {
            float[] full = FullForward(model, all[i]);
            for (int s = 0; s <= steps; s++) expected.Add(full.AsSpan((lengths[i] - 1 + s) * V, V).ToArray());
        }

        // Together: one prefill call for the four prompts (mixed lengths), then decode steps of all four at once.
        var seqs = lengths.Select(_ => new KvSequence(pool)).ToArray();
        var logits = new float[lengths.Length * V];
        for (int i = 0; i < seqs.Length; i++) Assert.True(seqs[i].TryReserve(lengths[i]));
        decoder.Prefill(seqs, all.Select((a, i) => a[..lengths[i]]).ToArray(), logits);
        for (int i = 0; i < seqs.Length; i++)
            Gpt2ReferenceTests.AssertClose(expected[i * (steps + 1)], logits.AsSpan(i * V, V), $"{family} batched prefill of sequence {i}", 1e-5);
        for (int s = 1; s <= steps; s++)
        {
            var next = new int[seqs.Length];
            for (int i = 0; i < seqs.Length; i++) { next[i] = all[i][lengths[i] - 1 + s]; Assert.True(seqs[i].TryReserve(seqs[i].Length + 1)); }
            decoder.DecodeStep(seqs, next, logits);
            for (int i = 0; i < seqs.Length; i++)
            {
                Assert.Equal(lengths[i] + s, seqs[i].Length);
                Gpt2ReferenceTests.AssertClose(expected[i * (steps + 1) + s], logits.AsSpan(i * V, V), $"{family} batched step {s} of sequence {i}", 1e-5);
            }
        }
        foreach (var seq in seqs) seq.Release();
        Assert.Equal(0, pool.UsedBlocks);
    }

    // A decode step is the engine's inner loop: after warm-up it allocates nothing on the calling thread
    // (issue 13 §4: no per-token garbage). The blocks for the whole context are reserved up front, so the
    // window measures ForwardPaged alone (TryReserve may grow the sequence's block list). As in Core's
    // AllocationTests, the runtime's own one-off bookkeeping (a tier-1 method installed during a window)
    // may land in one window, so at least one of three windows must allocate nothing.
    [Theory, MemberData(nameof(Families))]
    public void ADecodeStepAllocatesNothingAfterWarmUp(string family)
    {
        var (model, file) = Load(family);
        using var _m = model; using var _f = file;
        var decoder = (IBatchedDecoder)model;
        int T = model.ContextLength, V = model.VocabularySize;
        int[] ids = RandomIds(T, V, 11);
        using var pool = new KvBlockPool(decoder.KvShape, blockSize: 4, budgetBytes: 1 << 20);
        var seq = new KvSequence(pool);
        KvSequence[] seqs = [seq];
        var token = new int[1];
        var logits = new float[V];
        var windows = new List<long>();
        for (int round = 0; round < 60; round++)
        {
            seq.Release();
            Assert.True(seq.TryReserve(T));
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int pos = 0; pos < T; pos++)
            {
                token[0] = ids[pos];
                decoder.DecodeStep(seqs, token, logits);
            }
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            if (round < 50) continue;   // warm-up: tiered JIT settles
            if (allocated == 0) break;
            windows.Add(allocated);
            if (windows.Count == 3) Assert.Fail($"{family}: {T} decode steps allocated {string.Join(", ", windows)} bytes in three windows after warm-up.");
        }
        Assert.Equal(T, seq.Length);
        seq.Release();
    }

    [Fact]
    public void ThePoolIsSizedFromTheBudgetAndCountsExactly()
    {
        var shape = new KvCacheShape(Layers: 2, KvHeads: 2, HeadDim: 8);   // 64 floats per position
        using var pool = new KvBlockPool(shape, blockSize: 4, budgetBytes: 10 * 4 * 64 * sizeof(float) + 100);
        Assert.Equal(10, pool.TotalBlocks);
        Assert.Equal(10L * 4 * 64 * sizeof(float), pool.Bytes);
        var a = new KvSequence(pool);
        var b = new KvSequence(pool);
        Assert.True(a.TryReserve(9));                 // 3 blocks
        Assert.Equal(3, pool.UsedBlocks);
        Assert.False(b.TryReserve(29));               // 8 blocks: all or nothing
        Assert.Equal(3, pool.UsedBlocks);
        Assert.Empty(b.Blocks);
        Assert.True(b.TryReserve(28));                // 7 blocks: the rest
        Assert.Equal(0, pool.FreeBlocks);
        Assert.Equal(10, a.Blocks.Concat(b.Blocks).Distinct().Count());
        a.Release();
        Assert.Equal(3, pool.FreeBlocks);
        Assert.Throws<InvalidOperationException>(() => pool.Free(b.Blocks[0] == 0 ? 1 : 0 ));
        b.Release();
        Assert.Equal(10, pool.FreeBlocks);
        Assert.Throws<ArgumentException>(() => new KvBlockPool(shape, 4, 100));
    }
}

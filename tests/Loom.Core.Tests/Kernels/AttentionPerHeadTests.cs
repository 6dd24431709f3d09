// GPT-2's attention over the packed qkv run head by head (Attention.PerHeadPasses, Attention.PerHead.cs)
// against the batched passes it replaces: the same GEMM calls, softmax rows and copies, so every output
// — the saved Q, K, V and P, the merged output, dqkv — must be the same bits, with one block (T = 64, the
// full products), whole and partial causal blocks, packed documents, and on one and two threads (each
// head's products run inline on its thread). The reference that is not Loom itself is the naive
// double-precision attention of AttentionBlockTests, which runs through this path by default.
using Loom.Core.Kernels;
using Loom.Core.Threading;

namespace Loom.Core.Tests.Kernels;

public class AttentionPerHeadTests
{
    private sealed record Outputs(float[] Y, float[] Q, float[] K, float[] V, float[] P, float[] DQkv);

    private static Outputs Run(bool perHead, AttentionShape s, float[] qkv, float[] dy, int[] firstKey, WorkerPool pool)
    {
        bool saved = Attention.PerHeadPasses;
        Attention.PerHeadPasses = perHead;
        try
        {
            float[] q = new float[s.HeadElements], k = new float[s.HeadElements], v = new float[s.HeadElements], head = new float[s.HeadElements];
            float[] p = new float[s.ScoreElements], y = new float[s.Batch * s.Time * s.Channels];
            // Stale NaN in every scratch: a path that read what it did not write would show.
            foreach (var a in new[] { q, k, v, head, p, y }) Array.Fill(a, float.NaN);
            Attention.Forward(qkv, y, q, k, v, p, head, s, pool, firstVisibleKey: firstKey);
            var dqkv = new float[s.QkvElements];
            var scratch = Enumerable.Range(0, 4).Select(_ => new float[s.HeadElements]).ToArray();
            var dScores = new float[s.ScoreElements];
            foreach (var a in scratch.Append(dScores).Append(dqkv)) Array.Fill(a, float.NaN);
            Attention.Backward(dy, q, k, v, p, dqkv, scratch[0], scratch[1], scratch[2], scratch[3], dScores, s, pool);
            return new Outputs(y, q, k, v, p, dqkv);
        }
        finally
        {
            Attention.PerHeadPasses = saved;
        }
    }

    [Theory]
    [InlineData(2, 64, 48, 3, false, 2)]     // one block: the full products (B=4, T=64's case)
    [InlineData(2, 128, 32, 2, false, 2)]    // two whole causal blocks
    [InlineData(3, 200, 32, 4, false, 2)]    // a partial last block
    [InlineData(2, 256, 128, 2, false, 2)]   // GPT-2's head size 64, four blocks (B=8, T=256's case)
    [InlineData(2, 256, 128, 2, false, 1)]   // the same on one thread
    [InlineData(2, 200, 32, 2, true, 2)]     // packed documents
    [InlineData(2, 96, 32, 2, true, 1)]      // packed documents, one block
    public void HeadByHeadGivesTheBatchedPassesBits(int batch, int time, int channels, int heads, bool documents, int threads)
    {
        var s = new AttentionShape(batch, time, channels, heads);
        var qkv = TestUtil.Random(21 + time, s.QkvElements);
        var dy = TestUtil.Random(22 + time, batch * time * channels);
        // Documents: batch row b packs documents starting at 0, 40 + 7b and (T > 150) 150.
        int[] firstKey = documents ? new int[batch * time] : [];
        for (int b = 0; b < batch && documents; b++)
            for (int t = 0; t < time; t++) firstKey[b * time + t] = t >= 150 ? 150 : t >= 40 + 7 * b ? 40 + 7 * b : 0;
        using var pool = new WorkerPool(threads);
        var batched = Run(perHead: false, s, qkv, dy, firstKey, pool);
        var perHead = Run(perHead: true, s, qkv, dy, firstKey, pool);
        Assert.Equal(batched.Y, perHead.Y);
        Assert.Equal(batched.Q, perHead.Q);
        Assert.Equal(batched.K, perHead.K);
        Assert.Equal(batched.V, perHead.V);
        Assert.Equal(batched.P, perHead.P);
        Assert.Equal(batched.DQkv, perHead.DQkv);
        Assert.DoesNotContain(perHead.DQkv, float.IsNaN);
    }

    [Fact]
    public void AShortDocumentTableIsRefusedBeforeAnythingIsRead()
    {
        var s = new AttentionShape(2, 64, 32, 2);
        float[] q = new float[s.HeadElements], k = new float[s.HeadElements], v = new float[s.HeadElements], head = new float[s.HeadElements];
        var ex = Assert.Throws<ArgumentException>(() => Attention.Forward(new float[s.QkvElements], new float[2 * 64 * 32], q, k, v,
            new float[s.ScoreElements], head, s, firstVisibleKey: new int[64]));
        Assert.Contains("firstVisibleKey has 64 entries", ex.Message);
    }
}

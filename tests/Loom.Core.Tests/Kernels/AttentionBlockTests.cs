// Causal attention with the blocks above the diagonal skipped (T ≥ 2·Attention.CausalBlock): forward and
// backward against a naive double-precision attention on head-major tensors, also for packed documents,
// and the backward against the full-product path (causal: false, the path GradientCheckTests checks by
// finite differences). The scratch regions start as NaN: a skipped block that were read would show.
using Loom.Core.Kernels;

namespace Loom.Core.Tests.Kernels;

public class AttentionBlockTests
{
    // Naive attention per (head i, query t) over keys [first(i, t), t], in double; returns P (bh, T, T) and Y.
    private static (double[] P, double[] Y) NaiveForward(double[] q, double[] k, double[] v, int bh, int T, int hs, Func<int, int, int> first)
    {
        var p = new double[bh * T * T];
        var y = new double[bh * T * hs];
        double scale = 1 / Math.Sqrt(hs);
        for (int i = 0; i < bh; i++)
        for (int t = 0; t < T; t++)
        {
            long row = ((long)i * T + t) * T;
            int f = first(i, t);
            double max = double.NegativeInfinity;
            for (int u = f; u <= t; u++)
            {
                double s = 0;
                for (int d = 0; d < hs; d++) s += q[(i * T + t) * hs + d] * k[(i * T + u) * hs + d];
                p[row + u] = s * scale;
                max = Math.Max(max, p[row + u]);
            }
            double z = 0;
            for (int u = f; u <= t; u++) z += p[row + u] = Math.Exp(p[row + u] - max);
            for (int u = f; u <= t; u++) p[row + u] /= z;
            for (int d = 0; d < hs; d++)
            {
                double acc = 0;
                for (int u = f; u <= t; u++) acc += p[row + u] * v[(i * T + u) * hs + d];
                y[(i * T + t) * hs + d] = acc;
            }
        }
        return (p, y);
    }

    // The backward of NaiveForward by its formulas: dP = dY·Vᵀ, dV = Pᵀ·dY, dS = P ⊙ (dP − rowsum(dP ⊙ P)),
    // dQ = dS·K/√hs, dK = dSᵀ·Q/√hs (hidden keys have P = 0, so they drop out).
    private static (double[] dQ, double[] dK, double[] dV) NaiveBackward(double[] q, double[] k, double[] v, double[] p, double[] dy, int bh, int T, int hs)
    {
        double scale = 1 / Math.Sqrt(hs);
        double[] dq = new double[bh * T * hs], dk = new double[bh * T * hs], dv = new double[bh * T * hs];
        var dp = new double[T];
        for (int i = 0; i < bh; i++)
        for (int t = 0; t < T; t++)
        {
            long row = ((long)i * T + t) * T;
            double dot = 0;
            for (int u = 0; u < T; u++)
            {
                double s = 0;
                for (int d = 0; d < hs; d++) s += dy[(i * T + t) * hs + d] * v[(i * T + u) * hs + d];
                dp[u] = s;
                dot += s * p[row + u];
                for (int d = 0; d < hs; d++) dv[(i * T + u) * hs + d] += p[row + u] * dy[(i * T + t) * hs + d];
            }
            for (int u = 0; u < T; u++)
            {
                double ds = p[row + u] * (dp[u] - dot);
                for (int d = 0; d < hs; d++)
                {
                    dq[(i * T + t) * hs + d] += scale * ds * k[(i * T + u) * hs + d];
                    dk[(i * T + u) * hs + d] += scale * ds * q[(i * T + t) * hs + d];
                }
            }
        }
        return (dq, dk, dv);
    }

    [Theory]
    [InlineData(3, 128, 16, false)]   // two whole blocks
    [InlineData(2, 160, 8, false)]    // a partial last block
    [InlineData(1, 256, 64, false)]   // GPT-2's head size, four blocks
    [InlineData(4, 200, 16, true)]    // packed documents (2 batch rows × 2 heads)
    public void SkippedCausalBlocksGiveTheNaiveAttentionAndItsGradients(int bh, int T, int hs, bool documents)
    {
        Assert.True(T >= 2 * Attention.CausalBlock);
        int n = bh * T * hs;
        var q = TestUtil.Random(1 + T, n);
        var k = TestUtil.Random(2 + T, n);
        var v = TestUtil.Random(3 + T, n);
        var dy = TestUtil.Random(4 + T, n);
        // Documents: batch row b (heads 2b, 2b+1) packs documents starting at 0, 70 + 9b and 150.
        const int heads = 2;
        int[] firstKey = documents ? new int[bh / heads * T] : [];
        for (int b = 0; b < bh / heads && documents; b++)
            for (int t = 0; t < T; t++) firstKey[b * T + t] = t >= 150 ? 150 : t >= 70 + 9 * b ? 70 + 9 * b : 0;
        int First(int i, int t) => documents ? firstKey[i / heads * T + t] : 0;
        var mask = documents ? SoftmaxMask.CausalDocuments(firstKey, heads) : SoftmaxMask.CausalSquare;

        var p = new float[bh * T * T];
        var y = new float[n];
        Array.Fill(p, float.NaN);
        Attention.ForwardHeads(q, k, v, p, y, bh, T, hs, mask);
        double[] qd = TestUtil.ToDouble(q), kd = TestUtil.ToDouble(k), vd = TestUtil.ToDouble(v);
        var (pRef, yRef) = NaiveForward(qd, kd, vd, bh, T, hs, First);
        TestUtil.Close(pRef, p, 1e-5, 1e-7, "P");
        TestUtil.Close(yRef, y, 1e-5, 1e-6, "Y");

        float[] dq = new float[n], dk = new float[n], dv = new float[n], dScores = new float[bh * T * T];
        foreach (var a in new[] { dq, dk, dv, dScores }) Array.Fill(a, float.NaN);
        Attention.BackwardHeads(dy, q, k, v, p, dq, dk, dv, dScores, bh, T, hs, causal: true);
        var (dqRef, dkRef, dvRef) = NaiveBackward(qd, kd, vd, TestUtil.ToDouble(p), TestUtil.ToDouble(dy), bh, T, hs);
        TestUtil.Close(dqRef, dq, 1e-4, 2e-5, "dQ");
        TestUtil.Close(dkRef, dk, 1e-4, 2e-5, "dK");
        TestUtil.Close(dvRef, dv, 1e-4, 2e-5, "dV");

        // The full products (no block skipping) on the same P: the same numbers up to float rounding.
        float[] fq = new float[n], fk = new float[n], fv = new float[n];
        Attention.BackwardHeads(dy, q, k, v, p, fq, fk, fv, new float[bh * T * T], bh, T, hs, causal: false);
        TestUtil.Close(fq, dq, 1e-4, 1e-5, "dQ vs full products");
        TestUtil.Close(fk, dk, 1e-4, 1e-5, "dK vs full products");
        TestUtil.Close(fv, dv, 1e-4, 1e-5, "dV vs full products");
    }

    [Fact]
    public void GptAttentionOverPackedQkvSkipsBlocksAndMatchesTheHeadMajorReference()
    {
        // Attention.Forward/Backward (GPT-2's packed qkv) at T = 192 go through the skipping path end to end.
        var s = new AttentionShape(1, 192, 32, 2);
        int hs = s.HeadSize, T = s.Time;
        var qkv = TestUtil.Random(11, s.QkvElements);
        var dyRows = TestUtil.Random(12, s.Batch * T * s.Channels);
        float[] q = new float[s.HeadElements], k = new float[s.HeadElements], v = new float[s.HeadElements], head = new float[s.HeadElements];
        var p = new float[s.ScoreElements];
        var y = new float[s.Batch * T * s.Channels];
        Attention.Forward(qkv, y, q, k, v, p, head, s);
        double[] Split(int third) => Enumerable.Range(0, s.Heads * T * hs).Select(j =>
        {
            int h = j / (T * hs), t = j / hs % T, d = j % hs;
            return (double)qkv[t * 3 * s.Channels + third * s.Channels + h * hs + d];
        }).ToArray();
        double[] qd = Split(0), kd = Split(1), vd = Split(2);
        var (pRef, yHeads) = NaiveForward(qd, kd, vd, s.Heads, T, hs, (_, _) => 0);
        var yRef = new double[y.Length];
        for (int h = 0; h < s.Heads; h++) for (int t = 0; t < T; t++) for (int d = 0; d < hs; d++) yRef[t * s.Channels + h * hs + d] = yHeads[(h * T + t) * hs + d];
        TestUtil.Close(yRef, y, 1e-5, 1e-6, "attention output");

        var dqkv = new float[s.QkvElements];
        var dScores = new float[s.ScoreElements];
        Array.Fill(dScores, float.NaN);
        Attention.Backward(dyRows, q, k, v, p, dqkv, new float[s.HeadElements], new float[s.HeadElements], new float[s.HeadElements], new float[s.HeadElements], dScores, s);
        var dyHeads = new double[s.HeadElements];
        for (int h = 0; h < s.Heads; h++) for (int t = 0; t < T; t++) for (int d = 0; d < hs; d++) dyHeads[(h * T + t) * hs + d] = dyRows[t * s.Channels + h * hs + d];
        var (dqRef, dkRef, dvRef) = NaiveBackward(qd, kd, vd, pRef, dyHeads, s.Heads, T, hs);
        var want = new double[s.QkvElements];
        for (int h = 0; h < s.Heads; h++) for (int t = 0; t < T; t++) for (int d = 0; d < hs; d++)
        {
            int src = (h * T + t) * hs + d, dst = t * 3 * s.Channels + h * hs + d;
            want[dst] = dqRef[src];
            want[dst + s.Channels] = dkRef[src];
            want[dst + 2 * s.Channels] = dvRef[src];
        }
        TestUtil.Close(want, dqkv, 1e-4, 2e-5, "dqkv");
    }
}

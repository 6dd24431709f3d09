using Loom.Core.Kernels;

namespace Loom.Core.Tests.Kernels;

// The reductions promise the same bits on every SIMD path: 16 lanes, lane j summing elements
// i ≡ j (mod 16) in order, lanes added in order, tail last. The reference below is that order
// written as plain loops; CI runs these tests on the AVX-512, AVX2, SSE and scalar paths.
public unsafe class VectorOpsTests
{
    private static float Reference(int n, Func<int, float> term)
    {
        var lanes = new float[16];
        int main = n / 16 * 16;
        for (int i = 0; i < main; i++) lanes[i % 16] += term(i);
        float s = 0f;
        if (main > 0)
        {
            s = lanes[0];
            for (int j = 1; j < 16; j++) s += lanes[j];
        }
        for (int i = main; i < n; i++) s += term(i);
        return s;
    }

    // The exp reductions' order: the tail goes into the lanes too (padded with exp(−∞) = 0).
    private static float ReferenceAllLanes(int n, Func<int, float> term)
    {
        var lanes = new float[16];
        for (int i = 0; i < n; i++) lanes[i % 16] += term(i);
        float s = lanes[0];
        for (int j = 1; j < 16; j++) s += lanes[j];
        return n == 0 ? 0f : s;
    }

    private static void Same(float want, float got, string what) =>
        Assert.True(BitConverter.SingleToInt32Bits(want) == BitConverter.SingleToInt32Bits(got), $"{what}: reference {want:R}, got {got:R}");

    public static IEnumerable<object[]> Lengths()
    {
        foreach (int n in new[] { 0, 1, 7, 15, 16, 17, 31, 32, 33, 63, 64, 100, 255, 768, 1001, 50257 }) yield return [n];
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void ReductionsFollowTheSixteenLaneOrderOnEveryPath(int n)
    {
        var x = TestUtil.Random(n + 1, n, 5f, 0.3f);
        var y = TestUtil.Random(n + 2, n, 2f);
        float max = n == 0 ? 0f : x.Max();
        fixed (float* px = x, py = y)
        {
            Same(Reference(n, i => x[i]), VectorOps.Sum(px, n), $"sum n={n}");
            Same(Reference(n, i => x[i] * y[i]), VectorOps.Dot(px, py, n), $"dot n={n}");
            Same(Reference(n, i => (x[i] - 0.25f) * (x[i] - 0.25f)), VectorOps.SumSquaredDeviation(px, n, 0.25f), $"ssd n={n}");
            Same(ReferenceAllLanes(n, i => FastMath.Exp(x[i] - max)), VectorOps.SumExpShifted(px, n, max), $"sum exp n={n}");
            var e = new float[n];
            fixed (float* pe = e)
                Same(ReferenceAllLanes(n, i => FastMath.Exp(x[i] - max)), VectorOps.ExpShiftedSum(px, pe, n, max), $"exp sum n={n}");
            for (int i = 0; i < n; i++) Same(FastMath.Exp(x[i] - max), e[i], $"exp[{i}] n={n}");
            if (n > 0) Assert.Equal(max, VectorOps.Max(px, n));
        }
    }

    [Theory]
    [InlineData(5)]
    [InlineData(64)]
    [InlineData(771)]
    public void SoftmaxAndCrossEntropyEqualTheScalarReferenceBitForBit(int cols)
    {
        // Same numbers on every path: softmax = exp(x − max) · (1/Σ) with the 16-lane sum;
        // cross-entropy = log(Σ) + max − z_t.
        int rows = 3;
        var x = TestUtil.Random(cols, rows * cols, 8f);
        var y = new float[x.Length];
        Softmax.Forward(x, y, cols);
        var losses = new float[rows];
        var targets = new[] { 0, cols - 1, cols / 2 };
        CrossEntropy.ForwardBackward(x, targets, cols, losses, default);
        for (int r = 0; r < rows; r++)
        {
            var row = x.AsSpan(r * cols, cols).ToArray();
            float max = row.Max();
            float sum = ReferenceAllLanes(cols, i => FastMath.Exp(row[i] - max));
            for (int j = 0; j < cols; j++) Same(FastMath.Exp(row[j] - max) * (1f / sum), y[r * cols + j], $"softmax row {r} col {j}");
            Same(MathF.Log(sum) + max - row[targets[r]], losses[r], $"cross-entropy row {r}");
        }
    }

    [Theory]
    [InlineData(13)]
    [InlineData(768)]
    [InlineData(1003)]
    public void LayerNormAndAdamWEqualTheScalarReferenceBitForBit(int cols)
    {
        int rows = 2;
        var x = TestUtil.Random(cols + 3, rows * cols, 3f, 0.5f);
        var w = TestUtil.Random(cols + 4, cols, 1f, 1f);
        var b = TestUtil.Random(cols + 5, cols);
        var y = new float[x.Length];
        var mean = new float[rows];
        var rstd = new float[rows];
        LayerNorm.Forward(x, w, b, y, mean, rstd, cols, 1e-5f);
        for (int r = 0; r < rows; r++)
        {
            var row = x.AsSpan(r * cols, cols).ToArray();
            float mu = Reference(cols, i => row[i]) / cols;
            float rs = 1f / MathF.Sqrt(Reference(cols, i => (row[i] - mu) * (row[i] - mu)) / cols + 1e-5f);
            Same(mu, mean[r], $"mean row {r}");
            Same(rs, rstd[r], $"rstd row {r}");
            for (int j = 0; j < cols; j++) Same((row[j] - mu) * rs * w[j] + b[j], y[r * cols + j], $"layernorm row {r} col {j}");
        }

        var p = TestUtil.Random(1, cols, 1f);
        var g = TestUtil.Random(2, cols, 0.1f);
        var m = TestUtil.Random(3, cols, 0.01f);
        var v = TestUtil.Random(4, cols, 0.001f, 0.001f);
        var (p0, m0, v0) = ((float[])p.Clone(), (float[])m.Clone(), (float[])v.Clone());
        var settings = new AdamWSettings(3e-4f, 0.9f, 0.95f, 1e-8f, 0.1f);
        AdamW.Update(p, g, m, v, settings, 7);
        float decay = 1f - settings.LearningRate * settings.WeightDecay, step = settings.LearningRate / (1f - MathF.Pow(0.9f, 7));
        float ibc2 = 1f / MathF.Sqrt(1f - MathF.Pow(0.95f, 7));
        for (int i = 0; i < cols; i++)
        {
            float mi = 0.9f * m0[i] + (1f - 0.9f) * g[i];
            float vi = 0.95f * v0[i] + (1f - 0.95f) * (g[i] * g[i]);
            float pi = p0[i] * decay - step * mi / (MathF.Sqrt(vi) * ibc2 + 1e-8f);
            Same(mi, m[i], $"adamw m[{i}]");
            Same(vi, v[i], $"adamw v[{i}]");
            Same(pi, p[i], $"adamw p[{i}]");
        }
    }

    [Theory]
    [InlineData(7, 13)]
    [InlineData(64, 771)]
    public void MatVecEqualsTheScalarReferenceBitForBit(int k, int n)
    {
        // Decoding's products on one thread: y[j] = Σ_k x[k]·W[k, j] in k order (ColumnsAxpy) and
        // y[j] = W[j, :]·x in the 16-lane order (RowsDot), on whatever path this process takes.
        var x = TestUtil.Random(k, k);
        var w = TestUtil.Random(n, k * n);
        var y = new float[n];
        using var pool = new Loom.Core.Threading.WorkerPool(1);
        MatVec.ColumnsAxpy(x, w, default, y, pool);
        for (int j = 0; j < n; j++)
        {
            float want = 0f;
            for (int p = 0; p < k; p++) want += x[p] * w[p * n + j];
            Same(want, y[j], $"columns-axpy y[{j}]");
        }
        var z = new float[k];
        var wr = TestUtil.Random(n + 1, k * n);
        var xr = TestUtil.Random(n + 2, n);
        MatVec.RowsDot(wr, xr, z, pool);
        for (int j = 0; j < k; j++) Same(Reference(n, i => wr[j * n + i] * xr[i]), z[j], $"rows-dot y[{j}]");
    }
}

using Loom.Core.Kernels;

namespace Loom.Core.Tests.Kernels;

public class NormalizationTests
{
    private static double[] LayerNormRef(double[] x, double[] w, double[] b, int cols, double eps)
    {
        int rows = x.Length / cols;
        var y = new double[x.Length];
        for (int r = 0; r < rows; r++)
        {
            double mean = 0, var = 0;
            for (int j = 0; j < cols; j++) mean += x[r * cols + j];
            mean /= cols;
            for (int j = 0; j < cols; j++) var += Math.Pow(x[r * cols + j] - mean, 2);
            var /= cols;
            double rs = 1 / Math.Sqrt(var + eps);
            for (int j = 0; j < cols; j++) y[r * cols + j] = (x[r * cols + j] - mean) * rs * w[j] + b[j];
        }
        return y;
    }

    private static double[] RmsNormRef(double[] x, double[] w, int cols, double eps)
    {
        int rows = x.Length / cols;
        var y = new double[x.Length];
        for (int r = 0; r < rows; r++)
        {
            double ms = 0;
            for (int j = 0; j < cols; j++) ms += x[r * cols + j] * x[r * cols + j];
            double rs = 1 / Math.Sqrt(ms / cols + eps);
            for (int j = 0; j < cols; j++) y[r * cols + j] = x[r * cols + j] * rs * w[j];
        }
        return y;
    }

    [Theory]
    [MemberData(nameof(TestUtil.TailLengths), MemberType = typeof(TestUtil))]
    public void ForwardMatchesReference(int cols)
    {
        int rows = 3;
        var x = TestUtil.Random(cols, rows * cols, 2f, 0.5f);
        var w = TestUtil.Random(cols + 1, cols);
        var b = TestUtil.Random(cols + 2, cols);
        var y = new float[x.Length];
        var mean = new float[rows];
        var rstd = new float[rows];
        LayerNorm.Forward(x, w, b, y, mean, rstd, cols);
        TestUtil.Close(LayerNormRef(TestUtil.ToDouble(x), TestUtil.ToDouble(w), TestUtil.ToDouble(b), cols, 1e-5), y, 1e-4, 1e-5, "layernorm");
        RmsNorm.Forward(x, w, y, rstd, cols);
        TestUtil.Close(RmsNormRef(TestUtil.ToDouble(x), TestUtil.ToDouble(w), cols, 1e-6), y, 1e-4, 1e-5, "rmsnorm");
    }

    // VectorOps' 16-lane order: lane j sums elements i ≡ j (mod 16) in order, the lanes are added
    // in order, the tail last (a row shorter than 16 is summed from 0 in order).
    private static float SixteenLaneSum(int n, Func<int, float> term)
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

    [Theory]
    [InlineData(5, 1)]
    [InlineData(16, 1)]
    [InlineData(37, 1)]
    [InlineData(768, 1)]
    [InlineData(1536, 2)]
    [InlineData(1003, 3)]
    public void LayerNormForwardOnSeveralThreadsEqualsTheScalarReferenceBitForBit(int cols, int threads)
    {
        // 11 rows, on 1 to 3 threads (at 1536 and 1003 columns the rows split 6 + 5): every row must
        // get the numbers of the 16-lane order that every path (AVX-512, AVX2, SSE, scalar) uses, bit
        // for bit, and stay close to the double-precision reference.
        int rows = 11;
        var x = TestUtil.Random(cols + 7, rows * cols, 3f, 0.5f);
        var w = TestUtil.Random(cols + 8, cols, 1f, 1f);
        var b = TestUtil.Random(cols + 9, cols);
        var y = new float[x.Length];
        var mean = new float[rows];
        var rstd = new float[rows];
        using var pool = new Loom.Core.Threading.WorkerPool(threads);
        LayerNorm.Forward(x, w, b, y, mean, rstd, cols, 1e-5f, pool);
        TestUtil.Close(LayerNormRef(TestUtil.ToDouble(x), TestUtil.ToDouble(w), TestUtil.ToDouble(b), cols, 1e-5), y, 1e-4, 1e-5, "layernorm");
        AssertSixteenLaneOrder(x, w, b, y, mean, rstd, rows, cols);
    }

    [Theory]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(25)]
    [InlineData(31)]
    [InlineData(40)]
    [InlineData(783)]
    public void LayerNormForwardWithAndWithoutNextRowPrefetchEqualsTheScalarReferenceBitForBit(int cols)
    {
        // The AVX-512 rows prefetch the next row and take the last cols mod 16 columns as one masked
        // chunk: neither may change a bit (tails of 0, 1, 8, 9 and 15 columns, over stale output, 9 rows
        // on 2 threads). On the other paths the switch is ignored and the same reference holds.
        int rows = 9;
        var x = TestUtil.Random(cols + 17, rows * cols, 3f, -0.25f);
        var w = TestUtil.Random(cols + 18, cols, 1f, 1f);
        var b = TestUtil.Random(cols + 19, cols);
        using var pool = new Loom.Core.Threading.WorkerPool(2);
        try
        {
            foreach (bool prefetch in new[] { true, false })
            {
                LayerNorm.PrefetchNextRow = prefetch;
                var y = TestUtil.Random(cols + 20, x.Length);
                var mean = new float[rows];
                var rstd = new float[rows];
                LayerNorm.Forward(x, w, b, y, mean, rstd, cols, 1e-5f, pool);
                TestUtil.Close(LayerNormRef(TestUtil.ToDouble(x), TestUtil.ToDouble(w), TestUtil.ToDouble(b), cols, 1e-5), y, 1e-4, 1e-5, "layernorm");
                AssertSixteenLaneOrder(x, w, b, y, mean, rstd, rows, cols);
            }
        }
        finally
        {
            LayerNorm.PrefetchNextRow = true;
        }
    }

    // Every row gets the numbers of the 16-lane order, bit for bit: mean, rstd and each output.
    private static void AssertSixteenLaneOrder(float[] x, float[] w, float[] b, float[] y, float[] mean, float[] rstd, int rows, int cols)
    {
        for (int r = 0; r < rows; r++)
        {
            var row = x.AsSpan(r * cols, cols).ToArray();
            float mu = SixteenLaneSum(cols, i => row[i]) / cols;
            float rs = 1f / MathF.Sqrt(SixteenLaneSum(cols, i => (row[i] - mu) * (row[i] - mu)) / cols + 1e-5f);
            Assert.Equal(BitConverter.SingleToInt32Bits(mu), BitConverter.SingleToInt32Bits(mean[r]));
            Assert.Equal(BitConverter.SingleToInt32Bits(rs), BitConverter.SingleToInt32Bits(rstd[r]));
            for (int j = 0; j < cols; j++)
            {
                float want = (row[j] - mu) * rs * w[j] + b[j];
                Assert.True(BitConverter.SingleToInt32Bits(want) == BitConverter.SingleToInt32Bits(y[r * cols + j]),
                    $"cols {cols} row {r} col {j}: reference {want:R}, got {y[r * cols + j]:R}");
            }
        }
    }

    [Theory]
    [InlineData(1, 2)]
    [InlineData(3, 5)]
    [InlineData(4, 17)]
    [InlineData(2, 40)]
    public void LayerNormBackwardMatchesFiniteDifferences(int rows, int cols)
    {
        var x = TestUtil.Random(1, rows * cols, 2f);
        var w = TestUtil.Random(2, cols);
        var b = TestUtil.Random(3, cols);
        var r = TestUtil.Random(4, rows * cols);
        var y = new float[x.Length];
        var mean = new float[rows];
        var rstd = new float[rows];
        LayerNorm.Forward(x, w, b, y, mean, rstd, cols);
        var dx = new float[x.Length];
        var dw = new float[cols];
        var db = new float[cols];
        LayerNorm.Backward(r, x, w, mean, rstd, dx, dw, db, cols);
        double[] xd = TestUtil.ToDouble(x), wd = TestUtil.ToDouble(w), bd = TestUtil.ToDouble(b), rd = TestUtil.ToDouble(r);
        TestUtil.Close(TestUtil.FiniteDifference(v => LayerNormRef(v, wd, bd, cols, 1e-5), xd, rd), dx, 1e-3, 1e-5, "dx");
        TestUtil.Close(TestUtil.FiniteDifference(v => LayerNormRef(xd, v, bd, cols, 1e-5), wd, rd), dw, 1e-3, 1e-5, "dw");
        TestUtil.Close(TestUtil.FiniteDifference(v => LayerNormRef(xd, wd, v, cols, 1e-5), bd, rd), db, 1e-3, 1e-5, "db");
    }

    [Theory]
    [InlineData(1, 2)]
    [InlineData(3, 5)]
    [InlineData(4, 17)]
    [InlineData(2, 40)]
    public void RmsNormBackwardMatchesFiniteDifferences(int rows, int cols)
    {
        var x = TestUtil.Random(5, rows * cols, 2f);
        var w = TestUtil.Random(6, cols);
        var r = TestUtil.Random(7, rows * cols);
        var y = new float[x.Length];
        var rstd = new float[rows];
        RmsNorm.Forward(x, w, y, rstd, cols);
        var dx = new float[x.Length];
        var dw = new float[cols];
        RmsNorm.Backward(r, x, w, rstd, dx, dw, cols);
        double[] xd = TestUtil.ToDouble(x), wd = TestUtil.ToDouble(w), rd = TestUtil.ToDouble(r);
        TestUtil.Close(TestUtil.FiniteDifference(v => RmsNormRef(v, wd, cols, 1e-6), xd, rd), dx, 1e-3, 1e-5, "dx");
        TestUtil.Close(TestUtil.FiniteDifference(v => RmsNormRef(xd, v, cols, 1e-6), wd, rd), dw, 1e-3, 1e-5, "dw");
    }

    [Fact]
    public void BackwardInPlaceOverDyAndAccumulating()
    {
        int rows = 3, cols = 21;
        var x = TestUtil.Random(1, rows * cols);
        var w = TestUtil.Random(2, cols);
        var b = TestUtil.Random(3, cols);
        var r = TestUtil.Random(4, rows * cols);
        var y = new float[x.Length]; var mean = new float[rows]; var rstd = new float[rows];
        LayerNorm.Forward(x, w, b, y, mean, rstd, cols);
        var dx = new float[x.Length]; var dw = new float[cols]; var db = new float[cols];
        LayerNorm.Backward(r, x, w, mean, rstd, dx, dw, db, cols);
        var inPlace = (float[])r.Clone(); var dw2 = new float[cols]; var db2 = new float[cols];
        LayerNorm.Backward(inPlace, x, w, mean, rstd, inPlace, dw2, db2, cols);
        Assert.Equal(dx, inPlace);
        Assert.Equal(dw, dw2);
        var acc = (float[])dx.Clone();
        LayerNorm.Backward(r, x, w, mean, rstd, acc, dw2, db2, cols, accumulate: true);
        TestUtil.Close(dx.Select(v => 2.0 * v).ToArray(), acc, 1e-6, 1e-7);
        TestUtil.Close(dw.Select(v => 2.0 * v).ToArray(), dw2, 1e-6, 1e-7);
    }
}

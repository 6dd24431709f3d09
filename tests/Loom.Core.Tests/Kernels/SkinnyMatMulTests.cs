// SkinnyMatMul against naive double loops: every row count 1..MaxRows (so the clamped, unstored
// padding rows of the 8- and 4-row groups are exercised), widths off the 32-column panels and
// 4-output blocks, k off the 16-lane vectors, with and without bias and accumulation; and the same
// bits on 1 and 2 threads.
using Loom.Core.Kernels;
using Loom.Core.Threading;

namespace Loom.Core.Tests.Kernels;

public class SkinnyMatMulTests
{
    public static TheoryData<int, int, int> Shapes()
    {
        var d = new TheoryData<int, int, int>();
        foreach (int m in new[] { 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32 })
        {
            d.Add(m, 1, 1);
            d.Add(m, 37, 70);     // k and n both off the vector and panel sizes
            d.Add(m, 64, 96);     // whole panels, whole vectors
        }
        d.Add(16, 768, 2304); // GPT-2's c_attn at a 16-sequence decode step
        return d;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void BothLayoutsMatchNaive(int m, int k, int n)
    {
        if (!SkinnyMatMul.IsSupported) return;   // DOTNET_EnableAVX512=0 runs: the projections take the GEMM, tested in GemmTests
        var x = TestUtil.Random(1, m * k);
        var w = TestUtil.Random(2, k * n);        // (k, n) for ColumnsPanel; read as (n, k) for RowsDot
        var b = TestUtil.Random(3, n);
        var prior = TestUtil.Random(4, m * n);
        foreach (bool bias in new[] { false, true })
            foreach (bool accumulate in new[] { false, true })
            {
                var y = (float[])prior.Clone();
                SkinnyMatMul.ColumnsPanel(x, w, bias ? b : default, y, m, k, n, accumulate);
                var want = new double[m * n];
                for (int r = 0; r < m; r++)
                    for (int j = 0; j < n; j++)
                    {
                        double s = (bias ? b[j] : 0) + (accumulate ? prior[r * n + j] : 0);
                        for (int i = 0; i < k; i++) s += (double)x[r * k + i] * w[i * n + j];
                        want[r * n + j] = s;
                    }
                TestUtil.Close(want, y, 1e-5, 1e-5 + 1e-6 * k, $"x·W m={m} bias={bias} accumulate={accumulate}");

                var yr = (float[])prior.Clone();
                SkinnyMatMul.RowsDot(x, w, bias ? b : default, yr, m, k, n, accumulate);
                for (int r = 0; r < m; r++)
                    for (int j = 0; j < n; j++)
                    {
                        double s = (bias ? b[j] : 0) + (accumulate ? prior[r * n + j] : 0);
                        for (int i = 0; i < k; i++) s += (double)x[r * k + i] * w[j * k + i];
                        want[r * n + j] = s;
                    }
                TestUtil.Close(want, yr, 1e-5, 1e-5 + 1e-6 * k, $"x·Wᵀ m={m} bias={bias} accumulate={accumulate}");
            }
    }

    [Fact]
    public void ResultDoesNotDependOnTheThreadCount()
    {
        if (!SkinnyMatMul.IsSupported) return;
        int m = 13, k = 300, n = 1000;
        var x = TestUtil.Random(5, m * k);
        var w = TestUtil.Random(6, k * n);
        var b = TestUtil.Random(7, n);
        using var one = new WorkerPool(1);
        using var two = new WorkerPool(2);
        float[] c1 = new float[m * n], c2 = new float[m * n], r1 = new float[m * n], r2 = new float[m * n];
        SkinnyMatMul.ColumnsPanel(x, w, b, c1, m, k, n, pool: one);
        SkinnyMatMul.ColumnsPanel(x, w, b, c2, m, k, n, pool: two);
        SkinnyMatMul.RowsDot(x, w, b, r1, m, k, n, pool: one);
        SkinnyMatMul.RowsDot(x, w, b, r2, m, k, n, pool: two);
        Assert.Equal(c1, c2);
        Assert.Equal(r1, r2);
    }

    [Fact]
    public void RejectsTooManyRowsAndWrongSizes()
    {
        if (!SkinnyMatMul.IsSupported) return;
        var tooMany = Assert.Throws<ArgumentOutOfRangeException>(() => SkinnyMatMul.RowsDot(new float[33 * 2], new float[4], default, new float[33 * 2], 33, 2, 2));
        Assert.Contains("use Gemm", tooMany.Message);
        var wrong = Assert.Throws<ArgumentException>(() => SkinnyMatMul.ColumnsPanel(new float[6], new float[6], default, new float[5], 2, 3, 2));
        Assert.Contains("y has 5 elements but must be 2×2", wrong.Message);
    }
}

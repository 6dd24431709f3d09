using Loom.Core.Kernels;

namespace Loom.Core.Tests.Kernels;

public class LinearTests
{
    private static double[] Forward(double[] x, double[] w, double[] b, int m, int k, int n)
    {
        var y = new double[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = b.Length == 0 ? 0 : b[j];
                for (int p = 0; p < k; p++) s += x[i * k + p] * w[j * k + p];
                y[i * n + j] = s;
            }
        return y;
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(7, 5, 3)]
    [InlineData(13, 17, 19)]
    [InlineData(6, 16, 32)]
    public void BackwardMatchesFiniteDifferences(int m, int k, int n)
    {
        var x = TestUtil.Random(1, m * k);
        var w = TestUtil.Random(2, n * k);
        var b = TestUtil.Random(3, n);
        var r = TestUtil.Random(4, m * n);
        var y = new float[m * n];
        Linear.Forward(x, w, b, y, m, k, n);
        TestUtil.Close(Forward(TestUtil.ToDouble(x), TestUtil.ToDouble(w), TestUtil.ToDouble(b), m, k, n), y, 1e-5, 1e-5, "forward");

        var dx = new float[m * k];
        var dw = new float[n * k];
        var db = new float[n];
        Linear.Backward(r, x, w, dx, dw, db, m, k, n);

        double[] xd = TestUtil.ToDouble(x), wd = TestUtil.ToDouble(w), bd = TestUtil.ToDouble(b), rd = TestUtil.ToDouble(r);
        TestUtil.Close(TestUtil.FiniteDifference(v => Forward(v, wd, bd, m, k, n), xd, rd), dx, 1e-4, 1e-5, "dx");
        TestUtil.Close(TestUtil.FiniteDifference(v => Forward(xd, v, bd, m, k, n), wd, rd), dw, 1e-4, 1e-5, "dw");
        TestUtil.Close(TestUtil.FiniteDifference(v => Forward(xd, wd, v, m, k, n), bd, rd), db, 1e-4, 1e-5, "db");
    }

    [Fact]
    public void WeightGradientsAccumulateAndInputGradientCanAccumulate()
    {
        int m = 4, k = 3, n = 2;
        var x = TestUtil.Random(1, m * k);
        var w = TestUtil.Random(2, n * k);
        var r = TestUtil.Random(3, m * n);
        var dx1 = new float[m * k]; var dw1 = new float[n * k]; var db1 = new float[n];
        Linear.Backward(r, x, w, dx1, dw1, db1, m, k, n);
        var dx2 = (float[])dx1.Clone(); var dw2 = (float[])dw1.Clone(); var db2 = (float[])db1.Clone();
        Linear.Backward(r, x, w, dx2, dw2, db2, m, k, n, accumulateInput: true);
        TestUtil.Close(dx1.Select(v => 2.0 * v).ToArray(), dx2, 1e-6, 1e-7, "dx");
        TestUtil.Close(dw1.Select(v => 2.0 * v).ToArray(), dw2, 1e-6, 1e-7, "dw");
        TestUtil.Close(db1.Select(v => 2.0 * v).ToArray(), db2, 1e-6, 1e-7, "db");
    }

    [Fact]
    public void RejectsWrongSizes()
    {
        var ex = Assert.Throws<ArgumentException>(() => Linear.Forward(new float[6], new float[6], default, new float[5], 2, 3, 2));
        Assert.Contains("y has 5 elements but must be 2×2", ex.Message);
    }
}

public class MatVecTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(7, 13)]
    [InlineData(64, 100)]
    [InlineData(192, 1027)]
    public void BothFormsMatchNaive(int k, int n)
    {
        var w = TestUtil.Random(1, k * n);
        var x = TestUtil.Random(2, k);
        var b = TestUtil.Random(3, n);
        var y = new float[n];
        MatVec.ColumnsAxpy(x, w, b, y);
        var want = new double[n];
        for (int j = 0; j < n; j++) { want[j] = b[j]; for (int i = 0; i < k; i++) want[j] += (double)x[i] * w[i * n + j]; }
        TestUtil.Close(want, y, 1e-5, 1e-5, "xᵀW+b");
        var xr = TestUtil.Random(4, n);
        var yr = new float[k];
        MatVec.RowsDot(w, xr, yr); // w viewed as (k, n)
        var wantR = new double[k];
        for (int i = 0; i < k; i++) for (int j = 0; j < n; j++) wantR[i] += (double)w[i * n + j] * xr[j];
        TestUtil.Close(wantR, yr, 1e-5, 1e-5, "Wx");
    }
}

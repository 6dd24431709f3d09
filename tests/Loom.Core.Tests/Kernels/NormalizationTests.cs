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

// Backward passes of the composite kernels checked against central finite differences of a naive
// double-precision forward (TestUtil.FiniteDifference), and their forwards against that same naive
// forward: Attention (causal, packed QKV as GPT-2 lays it out), Conv1D (W stored (in, out)) and the
// decode-time MatVec products.
using Loom.Core.Kernels;

namespace Loom.Core.Tests.Kernels;

public class GradientCheckTests
{
    // Naive causal multi-head attention: qkv (B,T,3C) → y (B,T,C), in double.
    private static double[] NaiveAttention(double[] qkv, int B, int T, int C, int NH)
    {
        int hs = C / NH;
        var y = new double[B * T * C];
        double scale = 1 / Math.Sqrt(hs);
        for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++)
        for (int t = 0; t < T; t++)
        {
            double Q(int tt, int d) => qkv[(b * T + tt) * 3 * C + h * hs + d];
            double K(int tt, int d) => qkv[(b * T + tt) * 3 * C + C + h * hs + d];
            double V(int tt, int d) => qkv[(b * T + tt) * 3 * C + 2 * C + h * hs + d];
            var s = new double[t + 1];
            double max = double.NegativeInfinity;
            for (int u = 0; u <= t; u++)
            {
                for (int d = 0; d < hs; d++) s[u] += Q(t, d) * K(u, d);
                s[u] *= scale;
                max = Math.Max(max, s[u]);
            }
            double z = 0;
            for (int u = 0; u <= t; u++) z += s[u] = Math.Exp(s[u] - max);
            for (int d = 0; d < hs; d++)
            {
                double acc = 0;
                for (int u = 0; u <= t; u++) acc += s[u] / z * V(u, d);
                y[(b * T + t) * C + h * hs + d] = acc;
            }
        }
        return y;
    }

    [Theory]
    [InlineData(1, 1, 4, 1)]
    [InlineData(2, 5, 12, 3)]
    [InlineData(1, 9, 16, 2)]
    public void AttentionForwardAndBackwardMatchANaiveForwardAndFiniteDifferences(int B, int T, int C, int NH)
    {
        var s = new AttentionShape(B, T, C, NH);
        var qkv = TestUtil.Random(1 + T, s.QkvElements, 0.8f);
        var dy = TestUtil.Random(2 + T, B * T * C);
        var y = new float[B * T * C];
        float[] q = new float[s.HeadElements], k = new float[s.HeadElements], v = new float[s.HeadElements], head = new float[s.HeadElements];
        var p = new float[s.ScoreElements];
        Attention.Forward(qkv, y, q, k, v, p, head, s);
        TestUtil.Close(NaiveAttention(TestUtil.ToDouble(qkv), B, T, C, NH), y, 1e-5, 1e-6, "attention forward");

        var dqkv = new float[s.QkvElements];
        float[] dhead = new float[s.HeadElements], dq = new float[s.HeadElements], dk = new float[s.HeadElements], dv = new float[s.HeadElements];
        Attention.Backward(dy, q, k, v, p, dqkv, dhead, dq, dk, dv, new float[s.ScoreElements], s);
        var expected = TestUtil.FiniteDifference(x => NaiveAttention(x, B, T, C, NH), TestUtil.ToDouble(qkv), TestUtil.ToDouble(dy));
        TestUtil.Close(expected, dqkv, 1e-4, 1e-5, "attention dqkv");
    }

    private static double[] NaiveConv1D(double[] x, double[] w, double[] b, int m, int nin, int nout)
    {
        var y = new double[m * nout];
        for (int i = 0; i < m; i++)
        for (int o = 0; o < nout; o++)
        {
            double acc = b.Length > 0 ? b[o] : 0;
            for (int j = 0; j < nin; j++) acc += x[i * nin + j] * w[j * nout + o];
            y[i * nout + o] = acc;
        }
        return y;
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(3, 5, 7)]
    [InlineData(17, 9, 33)]
    public void Conv1DBackwardMatchesFiniteDifferencesForInputWeightAndBias(int m, int nin, int nout)
    {
        var x = TestUtil.Random(3, m * nin);
        var w = TestUtil.Random(4, nin * nout);
        var b = TestUtil.Random(5, nout);
        var dy = TestUtil.Random(6, m * nout);
        var y = new float[m * nout];
        Conv1D.Forward(x, w, b, y, m, nin, nout);
        double[] xd = TestUtil.ToDouble(x), wd = TestUtil.ToDouble(w), bd = TestUtil.ToDouble(b), dyd = TestUtil.ToDouble(dy);
        TestUtil.Close(NaiveConv1D(xd, wd, bd, m, nin, nout), y, 1e-5, 1e-6, "conv1d forward");

        var dx = new float[m * nin];
        var dw = TestUtil.Random(7, nin * nout);     // dW and db accumulate: start from non-zero
        var db = TestUtil.Random(8, nout);
        var dw0 = (float[])dw.Clone();
        var db0 = (float[])db.Clone();
        Conv1D.Backward(dy, x, w, dx, dw, db, m, nin, nout);
        TestUtil.Close(TestUtil.FiniteDifference(v => NaiveConv1D(v, wd, bd, m, nin, nout), xd, dyd), dx, 1e-5, 1e-6, "dx");
        var gw = TestUtil.FiniteDifference(v => NaiveConv1D(xd, v, bd, m, nin, nout), wd, dyd);
        var gb = TestUtil.FiniteDifference(v => NaiveConv1D(xd, wd, v, m, nin, nout), bd, dyd);
        TestUtil.Close(gw.Select((g, i) => g + dw0[i]).ToArray(), dw, 1e-5, 1e-5, "dW accumulated");
        TestUtil.Close(gb.Select((g, i) => g + db0[i]).ToArray(), db, 1e-5, 1e-5, "db accumulated");
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(7, 19)]
    [InlineData(64, 33)]
    [InlineData(130, 257)]
    public void MatVecProductsMatchANaiveProductAndTheirJacobianIsTheWeight(int n, int k)
    {
        var w = TestUtil.Random(9, n * k);        // (n, k) for RowsDot; the same numbers as (k, n) for ColumnsAxpy
        var x = TestUtil.Random(10, k);
        var r = TestUtil.Random(11, n);
        double[] wd = TestUtil.ToDouble(w);
        double[] RowsRef(double[] xv) => Enumerable.Range(0, n).Select(i => Enumerable.Range(0, k).Sum(j => wd[i * k + j] * xv[j])).ToArray();
        var y = new float[n];
        MatVec.RowsDot(w, x, y);
        TestUtil.Close(RowsRef(TestUtil.ToDouble(x)), y, 1e-5, 1e-6, "RowsDot");
        // d(rᵀ·W·x)/dx by finite differences of the kernel itself (linear, so float differences are exact to rounding) = Wᵀr.
        var fromKernel = TestUtil.FiniteDifference(xv =>
        {
            var yy = new float[n];
            MatVec.RowsDot(w, xv.Select(t => (float)t).ToArray(), yy);
            return TestUtil.ToDouble(yy);
        }, TestUtil.ToDouble(x), TestUtil.ToDouble(r), h: 0.25);
        var wtr = Enumerable.Range(0, k).Select(j => Enumerable.Range(0, n).Sum(i => wd[i * k + j] * r[i])).ToArray();
        TestUtil.Close(wtr, fromKernel.Select(g => (float)g).ToArray(), 1e-4, 1e-4, "RowsDot Jacobian");

        // ColumnsAxpy: y = xᵀ·W + b, W (k', n') = (n, k) reinterpreted with x of length n.
        var xc = TestUtil.Random(12, n);
        var bias = TestUtil.Random(13, k);
        var yc = new float[k];
        MatVec.ColumnsAxpy(xc, w, bias, yc);
        var expected = Enumerable.Range(0, k).Select(j => bias[j] + Enumerable.Range(0, n).Sum(i => (double)xc[i] * wd[i * k + j])).ToArray();
        TestUtil.Close(expected, yc, 1e-5, 1e-5, "ColumnsAxpy");
    }
}

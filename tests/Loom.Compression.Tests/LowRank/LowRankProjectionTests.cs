using Loom.Compression.LowRank;
using Loom.Models.Parameters;
using Loom.Models.Projections;

namespace Loom.Compression.Tests.LowRank;

public sealed class LowRankProjectionTests
{
    // Forward and backward against y = x·(B·A)ᵀ + b and its gradients in double.
    [Theory]
    [InlineData(1, false)]
    [InlineData(7, true)]
    public void ForwardAndBackwardEqualTheNaiveProduct(int rows, bool accumulate)
    {
        int inF = 11, outF = 9, r = 3;
        using var p = new ParameterSet([("w", [outF, inF], true), ("b", [outF], false), ("A", [r, inF], true), ("B", [outF, r], true)]);
        var rng = new Random(4);
        for (int i = 0; i < p.Specs.Count; i++) { var v = p.Value(i); for (int k = 0; k < v.Length; k++) v[k] = (float)(rng.NextDouble() - 0.5); }
        p.ZeroGradients();
        var proj = new LowRankProjection(new ProjectionSpec("x", ProjectionLayout.OutIn, inF, outF, 0, 1), p, 2, 3);
        var x = Enumerable.Range(0, rows * inF).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        var y0 = Enumerable.Range(0, rows * outF).Select(_ => (float)rng.NextDouble()).ToArray();
        var y = (float[])y0.Clone();
        proj.Forward(x, y, rows, accumulate);
        float[] A = p.Value(2).ToArray(), B = p.Value(3).ToArray(), bias = p.Value(1).ToArray();
        double Wf(int o, int i) { double s = 0; for (int k = 0; k < r; k++) s += (double)B[o * r + k] * A[k * inF + i]; return s; }
        for (int t = 0; t < rows; t++)
            for (int o = 0; o < outF; o++)
            {
                double s = bias[o] + (accumulate ? y0[t * outF + o] : 0);
                for (int i = 0; i < inF; i++) s += x[t * inF + i] * Wf(o, i);
                Assert.Equal(s, y[t * outF + o], 1e-5);
            }
        var dy = Enumerable.Range(0, rows * outF).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        var dx = new float[rows * inF];
        proj.Backward(dy, x, dx, rows);
        for (int t = 0; t < rows; t++)
            for (int i = 0; i < inF; i++)
            {
                double s = 0;
                for (int o = 0; o < outF; o++) s += dy[t * outF + o] * Wf(o, i);
                Assert.Equal(s, dx[t * inF + i], 1e-5);
            }
        // dB = dyᵀ·(x·Aᵀ), dA = (dy·B)ᵀ·x, db = Σ dy
        for (int o = 0; o < outF; o++)
            for (int k = 0; k < r; k++)
            {
                double s = 0;
                for (int t = 0; t < rows; t++) { double u = 0; for (int i = 0; i < inF; i++) u += x[t * inF + i] * A[k * inF + i]; s += dy[t * outF + o] * u; }
                Assert.Equal(s, p.Gradient(3)[o * r + k], 1e-5);
            }
        for (int k = 0; k < r; k++)
            for (int i = 0; i < inF; i++)
            {
                double s = 0;
                for (int t = 0; t < rows; t++) { double du = 0; for (int o = 0; o < outF; o++) du += dy[t * outF + o] * B[o * r + k]; s += du * x[t * inF + i]; }
                Assert.Equal(s, p.Gradient(2)[k * inF + i], 1e-5);
            }
        for (int o = 0; o < outF; o++) Assert.Equal(Enumerable.Range(0, rows).Sum(t => (double)dy[t * outF + o]), p.Gradient(1)[o], 1e-5);
    }
}

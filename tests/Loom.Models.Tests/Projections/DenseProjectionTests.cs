// The default projection against naive double loops, in both weight layouts, for one row (the
// matrix-vector path) and several, with and without accumulation, trainable and frozen.
using Loom.Models.Parameters;
using Loom.Models.Projections;

namespace Loom.Models.Tests.Projections;

public class DenseProjectionTests
{
    private const int In = 7, Out = 5;

    private static float[] Random(int n, int seed)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(r.NextDouble() * 2 - 1)).ToArray();
    }

    // W[o, i] in the projection's logical sense (y = x·Wᵀ + b), whatever the storage layout.
    private static double Wlogical(float[] stored, ProjectionLayout layout, int o, int i) =>
        layout == ProjectionLayout.OutIn ? stored[o * In + i] : stored[i * Out + o];

    private static (ParameterSet P, DenseProjection Proj) Build(ProjectionLayout layout, bool trainWeight, bool trainBias, float[] w, float[] b)
    {
        long[] shape = layout == ProjectionLayout.OutIn ? [Out, In] : [In, Out];
        var p = new ParameterSet([("w", shape, true), ("b", [Out], false)], n => n == "w" ? trainWeight : trainBias);
        w.CopyTo(p.Value(0));
        b.CopyTo(p.Value(1));
        return (p, new DenseProjection(new ProjectionSpec("layer", layout, In, Out, 0, 1), p));
    }

    [Theory]
    [InlineData(ProjectionLayout.OutIn, 1, false)]
    [InlineData(ProjectionLayout.OutIn, 6, false)]
    [InlineData(ProjectionLayout.OutIn, 6, true)]
    [InlineData(ProjectionLayout.InOut, 1, false)]
    [InlineData(ProjectionLayout.InOut, 6, false)]
    [InlineData(ProjectionLayout.InOut, 1, true)]
    public void ForwardMatchesNaive(ProjectionLayout layout, int rows, bool accumulate)
    {
        float[] w = Random(In * Out, 1), b = Random(Out, 2), x = Random(rows * In, 3), y0 = Random(rows * Out, 4);
        var (p, proj) = Build(layout, true, true, w, b);
        using var _ = p;
        var y = (float[])y0.Clone();
        proj.Forward(x, y, rows, accumulate);
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < Out; o++)
            {
                double want = (accumulate ? y0[r * Out + o] : 0) + b[o];
                for (int i = 0; i < In; i++) want += x[r * In + i] * Wlogical(w, layout, o, i);
                Assert.Equal(want, y[r * Out + o], 4);
            }
    }

    [Theory]
    [InlineData(ProjectionLayout.OutIn, true, true)]
    [InlineData(ProjectionLayout.OutIn, false, true)]
    [InlineData(ProjectionLayout.OutIn, false, false)]
    [InlineData(ProjectionLayout.InOut, true, false)]
    [InlineData(ProjectionLayout.InOut, false, true)]
    [InlineData(ProjectionLayout.InOut, false, false)]
    public void BackwardMatchesNaiveAndFrozenParametersGetNoGradient(ProjectionLayout layout, bool trainWeight, bool trainBias)
    {
        const int rows = 4;
        float[] w = Random(In * Out, 1), b = Random(Out, 2), x = Random(rows * In, 3), dy = Random(rows * Out, 5), dx0 = Random(rows * In, 6);
        var (p, proj) = Build(layout, trainWeight, trainBias, w, b);
        using var _ = p;
        var dx = (float[])dx0.Clone();
        proj.Backward(dy, x, dx, rows, accumulateInput: true);
        for (int r = 0; r < rows; r++)
            for (int i = 0; i < In; i++)
            {
                double want = dx0[r * In + i];
                for (int o = 0; o < Out; o++) want += dy[r * Out + o] * Wlogical(w, layout, o, i);
                Assert.Equal(want, dx[r * In + i], 4);
            }
        Assert.Equal(trainWeight, p.IsTrainable(0));
        Assert.Equal(trainBias, p.IsTrainable(1));
        if (trainWeight)
        {
            var dw = p.Gradient(0).ToArray();
            for (int o = 0; o < Out; o++)
                for (int i = 0; i < In; i++)
                {
                    double want = 0;
                    for (int r = 0; r < rows; r++) want += dy[r * Out + o] * x[r * In + i];
                    Assert.Equal(want, layout == ProjectionLayout.OutIn ? dw[o * In + i] : dw[i * Out + o], 4);
                }
        }
        else Assert.Throws<InvalidOperationException>(() => p.Gradient(0));
        if (trainBias)
        {
            var db = p.Gradient(1).ToArray();
            for (int o = 0; o < Out; o++) Assert.Equal(Enumerable.Range(0, rows).Sum(r => (double)dy[r * Out + o]), db[o], 4);
        }
        else Assert.Throws<InvalidOperationException>(() => p.Gradient(1));
        // The gradient block holds exactly the trainable tensors.
        Assert.Equal((trainWeight ? 48 : 0) + (trainBias ? 16 : 0), p.GradientFloats);
    }

    [Fact]
    public void AWeightOfTheWrongSizeIsRefusedByName()
    {
        using var p = new ParameterSet([("w", [3, 4], true)]);
        var e = Assert.Throws<ArgumentException>(() => new DenseProjection(new ProjectionSpec("h.0.attn.c_attn", ProjectionLayout.InOut, 4, 5, 0), p));
        Assert.Contains("h.0.attn.c_attn", e.Message);
    }
}

// LoraProjection against finite differences and a naive reference: L = Σ g ⊙ y is bilinear in A and
// B and linear in x, so central differences are exact up to float rounding; dx, dA, dB must match
// them for both weight layouts, with and without input dropout in training mode.
using Loom.Models.Adapters;
using Loom.Models.Parameters;
using Loom.Models.Projections;

namespace Loom.Models.Tests.Adapters;

public class LoraProjectionTests
{
    private const int In = 7, Out = 5, R = 3, Rows = 4;

    private sealed class Setup : IDisposable
    {
        public readonly ParameterSet P;
        public readonly LoraProjection Lora;
        public readonly LoraRuntime Runtime;
        public readonly int W, Bias, A, B;

        public Setup(ProjectionLayout layout, float dropout, bool training, bool trainBias = false)
        {
            long[] wShape = layout == ProjectionLayout.OutIn ? [Out, In] : [In, Out];
            P = new ParameterSet(new (string, long[], bool)[]
            {
                ("m.weight", wShape, true), ("m.bias", [Out], false), ("m.lora_A.weight", [R, In], true), ("m.lora_B.weight", [Out, R], true),
            }, n => n.Contains("lora_") || trainBias && n == "m.bias");
            W = 0; Bias = 1; A = 2; B = 3;
            var rng = new Random(7);
            foreach (int i in new[] { W, Bias, A, B })
            {
                var v = P.Value(i);
                for (int k = 0; k < v.Length; k++) v[k] = (float)(rng.NextDouble() * 2 - 1);
            }
            Runtime = new LoraRuntime(dropout, seed: 11) { Training = training, Step = 3 };
            var spec = new ProjectionSpec("m", layout, In, Out, W, Bias);
            Lora = new LoraProjection(new DenseProjection(spec, P), P, A, B, scaling: 1.5f, Runtime);
        }

        public void Dispose() { Lora.Dispose(); P.Dispose(); }
    }

    private static float[] Random(int n, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
    }

    private static double Loss(Setup s, float[] x, float[] g)
    {
        var y = new float[Rows * Out];
        s.Lora.Forward(x, y, Rows);
        double l = 0;
        for (int i = 0; i < y.Length; i++) l += (double)y[i] * g[i];
        return l;
    }

    public static TheoryData<ProjectionLayout, float> Cases => new()
    {
        { ProjectionLayout.OutIn, 0f }, { ProjectionLayout.InOut, 0f }, { ProjectionLayout.OutIn, 0.3f }, { ProjectionLayout.InOut, 0.5f },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void GradientsOfInputAAndBMatchFiniteDifferences(ProjectionLayout layout, float dropout)
    {
        using var s = new Setup(layout, dropout, training: true, trainBias: true);
        float[] x = Random(Rows * In, 1), g = Random(Rows * Out, 2), dx = new float[Rows * In];
        s.P.ZeroGradients();
        s.Lora.Backward(g, x, dx, Rows);
        const float h = 1e-2f;
        void Check(Span<float> values, ReadOnlySpan<float> analytic, string what)
        {
            for (int k = 0; k < values.Length; k++)
            {
                float keep = values[k];
                values[k] = keep + h; double up = Loss(s, x, g);
                values[k] = keep - h; double down = Loss(s, x, g);
                values[k] = keep;
                double fd = (up - down) / (2 * h);
                Assert.True(Math.Abs(fd - analytic[k]) < 2e-3 * (1 + Math.Abs(fd)), $"{what}[{k}]: finite difference {fd}, backward {analytic[k]}");
            }
        }
        float[] aGrad = s.P.Gradient(s.A).ToArray(), bGrad = s.P.Gradient(s.B).ToArray(), biasGrad = s.P.Gradient(s.Bias).ToArray();
        Check(x, dx, "dx");
        Check(s.P.Value(s.A), aGrad, "dA");
        Check(s.P.Value(s.B), bGrad, "dB");
        Check(s.P.Value(s.Bias), biasGrad, "dbias");
        Assert.False(s.P.IsTrainable(s.W));   // the base weight has no gradient at all
    }

    [Theory]
    [InlineData(ProjectionLayout.OutIn)]
    [InlineData(ProjectionLayout.InOut)]
    public void ForwardIsTheBasePlusScaledBAxAndDropoutIsOffOutsideTraining(ProjectionLayout layout)
    {
        using var s = new Setup(layout, dropout: 0.5f, training: false);
        float[] x = Random(Rows * In, 3), y = new float[Rows * Out];
        s.Lora.Forward(x, y, Rows);
        ReadOnlySpan<float> w = s.P.Value(s.W), b = s.P.Value(s.Bias), a = s.P.Value(s.A), bb = s.P.Value(s.B);
        for (int i = 0; i < Rows; i++)
            for (int o = 0; o < Out; o++)
            {
                double want = b[o];
                for (int k = 0; k < In; k++) want += x[i * In + k] * (layout == ProjectionLayout.OutIn ? w[o * In + k] : w[k * Out + o]);
                for (int r = 0; r < R; r++)
                {
                    double u = 0;
                    for (int k = 0; k < In; k++) u += x[i * In + k] * a[r * In + k];
                    want += 1.5 * bb[o * R + r] * u;
                }
                Assert.True(Math.Abs(want - y[i * Out + o]) < 1e-4, $"y[{i},{o}] = {y[i * Out + o]}, naive {want}");
            }
        // Training mode with dropout changes the output; the same step draws the same mask.
        s.Runtime.Training = true;
        float[] y1 = new float[Rows * Out], y2 = new float[Rows * Out];
        s.Lora.Forward(x, y1, Rows);
        s.Lora.Forward(x, y2, Rows);
        Assert.Equal(y1, y2);
        Assert.NotEqual(y, y1);
        s.Runtime.Step++;
        s.Lora.Forward(x, y2, Rows);
        Assert.NotEqual(y1, y2);
    }

    [Fact]
    public void ALoraBOfTheWrongShapeIsNamed()
    {
        using var p = new ParameterSet(new (string, long[], bool)[] { ("m.weight", [Out, In], true), ("m.lora_A.weight", [R, In], true), ("m.lora_B.weight", [Out + 1, R], true) });
        var spec = new ProjectionSpec("m", ProjectionLayout.OutIn, In, Out, 0);
        var e = Assert.Throws<ArgumentException>(() => new LoraProjection(new DenseProjection(spec, p), p, 1, 2, 1f, new LoraRuntime(0, 1)));
        Assert.Contains("lora_B", e.Message);
        Assert.Contains($"[{Out}, {R}]", e.Message);
    }
}

using Loom.Core.Kernels;

namespace Loom.Core.Tests.Kernels;

public class AdamWTests
{
    [Theory]
    [MemberData(nameof(TestUtil.TailLengths), MemberType = typeof(TestUtil))]
    public void ThreeStepsMatchTorchAlgorithm(int n)
    {
        var p = TestUtil.Random(1, n);
        var m = new float[n];
        var v = new float[n];
        double[] pd = TestUtil.ToDouble(p), md = new double[n], vd = new double[n];
        var s = new AdamWSettings(LearningRate: 1e-2f, WeightDecay: 0.1f);
        for (int step = 1; step <= 3; step++)
        {
            var g = TestUtil.Random(10 + step, n);
            AdamW.Update(p, g, m, v, s, step);
            // torch.optim.AdamW, single-tensor path, in double.
            double bc1 = 1 - Math.Pow(0.9, step), bc2 = 1 - Math.Pow(0.999, step);
            for (int i = 0; i < n; i++)
            {
                pd[i] *= 1 - 1e-2 * 0.1;
                md[i] = 0.9 * md[i] + 0.1 * g[i];
                vd[i] = 0.999 * vd[i] + 0.001 * g[i] * (double)g[i];
                pd[i] -= 1e-2 / bc1 * md[i] / (Math.Sqrt(vd[i]) / Math.Sqrt(bc2) + 1e-8);
            }
        }
        TestUtil.Close(pd, p, 1e-5, 1e-6, "params");
        TestUtil.Close(md, m, 1e-5, 1e-7, "m");
        TestUtil.Close(vd, v, 1e-5, 1e-8, "v");
    }

    [Theory]
    [MemberData(nameof(TestUtil.TailLengths), MemberType = typeof(TestUtil))]
    public void GradientScaleEqualsScalingTheGradientsFirstBitForBit(int n)
    {
        // Clipping fused into the update must give clip_grad_norm_'s numbers: g·c then AdamW.
        var p1 = TestUtil.Random(1, n);
        var g = TestUtil.Random(2, n, 3f);
        var m1 = TestUtil.Random(3, n, 0.01f);
        var v1 = TestUtil.Random(4, n, 0.001f, 0.001f);
        var (p2, m2, v2) = ((float[])p1.Clone(), (float[])m1.Clone(), (float[])v1.Clone());
        const float c = 0.3717f;
        var scaled = g.Select(x => x * c).ToArray();
        var s = new AdamWSettings(LearningRate: 1e-2f, WeightDecay: 0.1f);
        AdamW.Update(p1, scaled, m1, v1, s, 5);
        AdamW.Update(p2, g, m2, v2, s with { GradientScale = c }, 5);
        for (int i = 0; i < n; i++)
        {
            Assert.Equal(BitConverter.SingleToInt32Bits(p1[i]), BitConverter.SingleToInt32Bits(p2[i]));
            Assert.Equal(BitConverter.SingleToInt32Bits(m1[i]), BitConverter.SingleToInt32Bits(m2[i]));
            Assert.Equal(BitConverter.SingleToInt32Bits(v1[i]), BitConverter.SingleToInt32Bits(v2[i]));
        }
    }

    [Fact]
    public void StepMustBePositive() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => AdamW.Update(new float[1], new float[1], new float[1], new float[1], new AdamWSettings(), 0));
}

using System.Runtime.Intrinsics;
using Loom.Core.Kernels;

namespace Loom.Core.Tests.Kernels;

public class FastMathTests
{
    private static float[] Exp256(float[] x)
    {
        var y = new float[x.Length];
        for (int i = 0; i + 8 <= x.Length; i += 8)
            FastMath.Exp(Vector256.Create(x.AsSpan(i, 8))).CopyTo(y.AsSpan(i, 8));
        return y;
    }

    // Inputs for the cross-width check: a dense sweep of the whole range, values around every edge
    // (the clamps, overflow, ties of n = round(x·log₂e)), and the special values.
    private static float[] SweepWithEdges()
    {
        var list = new List<float>();
        for (int i = 0; i < 1 << 15; i++) list.Add(-100f + 200f * i / ((1 << 15) - 1));
        var rng = new Random(7);
        for (int i = 0; i < 1 << 14; i++) list.Add((float)(rng.NextDouble() * 2 - 1) * MathF.Pow(2, rng.Next(-30, 8)));
        foreach (float e in new[] { -87.33654f, 88.37626f, 88.72284f, 0f, 0.5f * MathF.Log(2f), -0.5f * MathF.Log(2f) })
        {
            float v = e;
            for (int k = 0; k < 8; k++) { list.Add(v); list.Add(-v); v = MathF.BitIncrement(v); }
            v = e;
            for (int k = 0; k < 8; k++) { list.Add(v); v = MathF.BitDecrement(v); }
        }
        list.AddRange([float.NaN, float.PositiveInfinity, float.NegativeInfinity, -0f, float.Epsilon, -float.Epsilon, float.MaxValue, float.MinValue]);
        while (list.Count % 16 != 0) list.Add(1f);
        return list.ToArray();
    }

    [Fact]
    public void ScalarSseAvx2AndAvx512PathsReturnTheSameBits()
    {
        // The reference is the scalar FastMath.Exp; each width must reproduce it exactly. Vector
        // code runs in software where the CPU lacks the width, so this runs on every machine and
        // under DOTNET_EnableAVX2=0 / DOTNET_EnableHWIntrinsic=0 as well.
        var x = SweepWithEdges();
        for (int i = 0; i < x.Length; i += 16)
        {
            var v512 = FastMath.Exp(Vector512.Create(x.AsSpan(i, 16)));
            for (int h = 0; h < 2; h++)
            {
                var v256 = FastMath.Exp(Vector256.Create(x.AsSpan(i + 8 * h, 8)));
                for (int q = 0; q < 2; q++)
                {
                    var v128 = FastMath.Exp(Vector128.Create(x.AsSpan(i + 8 * h + 4 * q, 4)));
                    for (int l = 0; l < 4; l++)
                    {
                        int idx = i + 8 * h + 4 * q + l;
                        int want = BitConverter.SingleToInt32Bits(FastMath.Exp(x[idx]));
                        string at = $"exp({x[idx]:R}): scalar {FastMath.Exp(x[idx]):R}";
                        Assert.True(want == BitConverter.SingleToInt32Bits(v128[l]), $"{at}, Vector128 {v128[l]:R}");
                        Assert.True(want == BitConverter.SingleToInt32Bits(v256[4 * q + l]), $"{at}, Vector256 {v256[4 * q + l]:R}");
                        Assert.True(want == BitConverter.SingleToInt32Bits(v512[8 * h + 4 * q + l]), $"{at}, Vector512 {v512[8 * h + 4 * q + l]:R}");
                    }
                }
            }
        }
    }

    [Fact]
    public void ExpNonPositiveReturnsTheScalarBitsForEveryInputAtMostZero()
    {
        // Softmax and cross-entropy feed exp x − max ≤ 0 (−∞ for masked lanes, NaN for NaN rows):
        // for those inputs the shorter Vector512 routine must reproduce the scalar exactly, around
        // the lower clamp and in the subnormal range of the result (2ⁿ at n = −126) included.
        var x = SweepWithEdges().Where(v => !(v > 0f)).ToList();
        while (x.Count % 16 != 0) x.Add(-1f);
        for (int i = 0; i < x.Count; i += 16)
        {
            var v = FastMath.ExpNonPositive(Vector512.Create(x.GetRange(i, 16).ToArray()));
            for (int l = 0; l < 16; l++)
            {
                float want = FastMath.Exp(x[i + l]);
                Assert.True(BitConverter.SingleToInt32Bits(want) == BitConverter.SingleToInt32Bits(v[l]),
                    $"exp({x[i + l]:R}): scalar {want:R}, ExpNonPositive {v[l]:R}");
            }
        }
    }

    [Fact]
    public void ScalarIsWithinTwoUlpOfMathExp()
    {
        const int n = 1 << 16;
        for (int i = 0; i < n; i++)
        {
            float x = -87.3f + (88.3f + 87.3f) * i / (n - 1);
            double want = Math.Exp(x);
            double ulp = (double)MathF.BitIncrement((float)want) - (float)want;
            float got = FastMath.Exp(x);
            Assert.True(Math.Abs(got - want) <= 2 * ulp, $"exp({x:R}) = {got:R}, want {want:R}");
        }
    }

    [Fact]
    public void WithinTwoUlpOfMathExpOverTheNormalRange()
    {
        const int n = 1 << 16;
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = -87.3f + (88.3f + 87.3f) * i / (n - 1);
        var y = Exp256(x);
        for (int i = 0; i < n; i++)
        {
            double want = Math.Exp(x[i]);
            double ulp = (double)MathF.BitIncrement((float)want) - (float)want;
            Assert.True(Math.Abs(y[i] - want) <= 2 * ulp, $"exp({x[i]:R}) = {y[i]:R}, want {want:R}");
        }
    }

    [Fact]
    public void EdgesAreZeroInfinityAndNaN()
    {
        var x = new float[] { -1000f, -88f, float.NegativeInfinity, 0f, 89f, float.PositiveInfinity, float.NaN, 88.5f };
        var y = Exp256(x);
        Assert.Equal(0f, y[0]);
        Assert.Equal(0f, y[1]);
        Assert.Equal(0f, y[2]);
        Assert.Equal(1f, y[3]);
        Assert.Equal(float.PositiveInfinity, y[4]);
        Assert.Equal(float.PositiveInfinity, y[5]);
        Assert.True(float.IsNaN(y[6]));
        Assert.True(float.IsFinite(y[7]) && y[7] > 2e38f);
        for (int i = 0; i < x.Length; i++)
            Assert.Equal(BitConverter.SingleToInt32Bits(y[i]), BitConverter.SingleToInt32Bits(FastMath.Exp(x[i])));
    }
}

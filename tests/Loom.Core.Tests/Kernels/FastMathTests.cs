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
    }
}

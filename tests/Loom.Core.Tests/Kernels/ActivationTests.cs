using System.Runtime.Intrinsics;
using Loom.Core.Kernels;

namespace Loom.Core.Tests.Kernels;

public class ActivationTests
{
    // References in double, straight from the definitions (tanh form of GELU, not the σ identity the kernel uses).
    private static double Gelu(double x) => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
    private static double Silu(double x) => x / (1 + Math.Exp(-x));

    [Theory]
    [MemberData(nameof(TestUtil.TailLengths), MemberType = typeof(TestUtil))]
    public void ForwardMatchesDefinition(int n)
    {
        var x = TestUtil.Random(n, n, 6f);
        var y = new float[n];
        Activations.GeluForward(x, y);
        TestUtil.Close(x.Select(v => Gelu(v)).ToArray(), y, 1e-5, 1e-6, "gelu");
        Activations.SiluForward(x, y);
        TestUtil.Close(x.Select(v => Silu(v)).ToArray(), y, 1e-5, 1e-6, "silu");
    }

    [Theory]
    [MemberData(nameof(TestUtil.TailLengths), MemberType = typeof(TestUtil))]
    public void InPlaceEqualsOutOfPlace(int n)
    {
        var x = TestUtil.Random(n + 1, n, 4f);
        var y = new float[n];
        Activations.GeluForward(x, y);
        Activations.GeluForward(x, x);
        Assert.Equal(y, x);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(9)]
    [InlineData(37)]
    public void BackwardMatchesFiniteDifferences(int n)
    {
        var x = TestUtil.Random(3, n, 4f);
        var r = TestUtil.Random(4, n);
        double[] xd = TestUtil.ToDouble(x), rd = TestUtil.ToDouble(r);
        var dx = new float[n];
        Activations.GeluBackward(x, r, dx);
        TestUtil.Close(TestUtil.FiniteDifference(v => v.Select(Gelu).ToArray(), xd, rd), dx, 1e-4, 1e-6, "gelu'");
        Activations.SiluBackward(x, r, dx);
        TestUtil.Close(TestUtil.FiniteDifference(v => v.Select(Silu).ToArray(), xd, rd), dx, 1e-4, 1e-6, "silu'");
    }

    // Inputs for the cross-path checks: ordinary values, the GELU clamp at ±20, the exp edges
    // (where 2u or x crosses ±87.3 and ±88.7), and huge values.
    private static float[] CrossPathInputs()
    {
        var list = new List<float>(TestUtil.Random(11, 4096, 12f));
        list.AddRange(TestUtil.Random(12, 1024, 120f));
        foreach (float e in new[] { 0f, 19.99f, 20f, 20.01f, 87.33f, 88.38f, 88.73f, 1e4f, 3e38f })
        {
            list.Add(e);
            list.Add(-e);
            list.Add(MathF.BitIncrement(e));
            list.Add(-MathF.BitIncrement(e));
        }
        while (list.Count % 16 != 0) list.Add(0.5f);
        return list.ToArray();
    }

    private static void AssertSameBits(float want, float got, string what)
    {
        if (BitConverter.SingleToInt32Bits(want) != BitConverter.SingleToInt32Bits(got))
            Assert.Fail($"{what}: scalar {want:R}, vector {got:R}");
    }

    private static void CheckUnaryWidths<TOp>(string name) where TOp : IUnaryOperator
    {
        var x = CrossPathInputs();
        for (int i = 0; i < x.Length; i += 16)
        {
            var v512 = TOp.Invoke(Vector512.Create(x.AsSpan(i, 16)));
            for (int l = 0; l < 16; l++)
            {
                float want = TOp.Invoke(x[i + l]);
                AssertSameBits(want, TOp.Invoke(Vector128.Create(x.AsSpan(i + l / 4 * 4, 4)))[l % 4], $"{name} Vector128({x[i + l]:R})");
                AssertSameBits(want, TOp.Invoke(Vector256.Create(x.AsSpan(i + l / 8 * 8, 8)))[l % 8], $"{name} Vector256({x[i + l]:R})");
                AssertSameBits(want, v512[l], $"{name} Vector512({x[i + l]:R})");
            }
        }
    }

    private static void CheckBinaryWidths<TOp>(string name) where TOp : IBinaryOperator
    {
        var x = CrossPathInputs();
        var dy = TestUtil.Random(13, x.Length, 3f);
        for (int i = 0; i < x.Length; i += 16)
        {
            var v512 = TOp.Invoke(Vector512.Create(x.AsSpan(i, 16)), Vector512.Create(dy.AsSpan(i, 16)));
            for (int l = 0; l < 16; l++)
            {
                float want = TOp.Invoke(x[i + l], dy[i + l]);
                int q = i + l / 4 * 4, h = i + l / 8 * 8;
                AssertSameBits(want, TOp.Invoke(Vector128.Create(x.AsSpan(q, 4)), Vector128.Create(dy.AsSpan(q, 4)))[l % 4], $"{name} Vector128({x[i + l]:R})");
                AssertSameBits(want, TOp.Invoke(Vector256.Create(x.AsSpan(h, 8)), Vector256.Create(dy.AsSpan(h, 8)))[l % 8], $"{name} Vector256({x[i + l]:R})");
                AssertSameBits(want, v512[l], $"{name} Vector512({x[i + l]:R})");
            }
        }
    }

    [Fact]
    public void EveryVectorWidthComputesTheScalarBits()
    {
        // Each operator at 128, 256 and 512 bits against its own scalar form: a machine with or
        // without AVX2/AVX-512 computes the same numbers. (Widths the CPU lacks run in software.)
        CheckUnaryWidths<Activations.GeluOp>("gelu");
        CheckBinaryWidths<Activations.GeluGradOp>("gelu'");
        CheckUnaryWidths<Activations.SiluOp>("silu");
        CheckBinaryWidths<Activations.SiluGradOp>("silu'");
        CheckUnaryWidths<GeluExact.Op>("gelu(erf)");
        CheckBinaryWidths<GeluExact.GradOp>("gelu(erf)'");
    }

    [Theory]
    [MemberData(nameof(TestUtil.TailLengths), MemberType = typeof(TestUtil))]
    public void KernelsOnThisMachinesPathEqualTheScalarReference(int n)
    {
        // Whatever path this process takes (AVX-512 by default; AVX2, SSE or scalar when CI
        // disables them), the public kernels return the scalar operator's bits, tails included.
        var x = TestUtil.Random(n + 5, n, 30f);
        var dy = TestUtil.Random(n + 6, n, 2f);
        var y = new float[n];
        Activations.GeluForward(x, y);
        for (int i = 0; i < n; i++) AssertSameBits(Activations.GeluOp.Invoke(x[i]), y[i], $"gelu({x[i]:R})");
        Activations.GeluBackward(x, dy, y);
        for (int i = 0; i < n; i++) AssertSameBits(Activations.GeluGradOp.Invoke(x[i], dy[i]), y[i], $"gelu'({x[i]:R})");
        Activations.SiluForward(x, y);
        for (int i = 0; i < n; i++) AssertSameBits(Activations.SiluOp.Invoke(x[i]), y[i], $"silu({x[i]:R})");
        Activations.SiluBackward(x, dy, y);
        for (int i = 0; i < n; i++) AssertSameBits(Activations.SiluGradOp.Invoke(x[i], dy[i]), y[i], $"silu'({x[i]:R})");
    }

    [Fact]
    public void ExtremeInputsStayFinite()
    {
        var x = new float[] { -1e4f, -100f, -20f, 0f, -0f, 20f, 100f, 1e4f, 3e38f, -3e38f };
        var y = new float[x.Length];
        var dy = Enumerable.Repeat(1f, x.Length).ToArray();
        var dx = new float[x.Length];
        Activations.GeluForward(x, y);
        Activations.GeluBackward(x, dy, dx);
        for (int i = 0; i < x.Length; i++)
        {
            Assert.True(float.IsFinite(y[i]), $"gelu({x[i]}) = {y[i]}");
            Assert.True(float.IsFinite(dx[i]), $"gelu'({x[i]}) = {dx[i]}");
        }
        Assert.Equal(1e4f, y[7]);
        Assert.Equal(0f, y[0]);
    }

    [Fact]
    public void NaNPropagates()
    {
        var x = new float[] { 1, float.NaN, 2, 3, 4, 5, 6, 7, 8 };
        var y = new float[x.Length];
        Activations.SiluForward(x, y);
        Assert.True(float.IsNaN(y[1]));
        Assert.False(float.IsNaN(y[0]));
    }

    [Fact]
    public void RejectsMismatchedAndShiftedOverlap()
    {
        Assert.Throws<ArgumentException>(() => Activations.GeluForward(new float[3], new float[4]));
        var buf = new float[20];
        var ex = Assert.Throws<ArgumentException>(() => Activations.GeluForward(buf.AsSpan(0, 10), buf.AsSpan(1, 10)));
        Assert.Contains("overlap", ex.Message);
    }
}

public class GeluExactTests
{
    // erf by its Maclaurin series in double (converges fast for |z| ≤ 4), erfc tail beyond.
    private static double Erf(double z)
    {
        if (Math.Abs(z) > 4) return Math.Sign(z) * (1 - Math.Exp(-z * z) / (Math.Abs(z) * Math.Sqrt(Math.PI)));
        double sum = 0, term = z;
        for (int n = 0; n < 200; n++) { sum += term / (2 * n + 1); term *= -z * z / (n + 1); }
        return 2 / Math.Sqrt(Math.PI) * sum;
    }

    private static double Gelu(double x) => 0.5 * x * (1 + Erf(x / Math.Sqrt(2)));

    [Theory]
    [MemberData(nameof(TestUtil.TailLengths), MemberType = typeof(TestUtil))]
    public void ForwardMatchesTheSeries(int n)
    {
        var x = TestUtil.Random(n, n, 6f);
        var y = new float[n];
        GeluExact.Forward(x, y);
        // For x ≪ 0, ½x(1 + erf) cancels in float (PyTorch's float GELU evaluates the same expression):
        // erf's error near −1 (a few ulp, ~1e-7) times ½|x| ≤ 3 bounds the absolute error by 1e-6 here.
        TestUtil.Close(x.Select(v => Gelu(v)).ToArray(), y, 1e-5, 1e-6);
        for (int i = 0; i < n; i++) Assert.True(x[i] >= 0 ? y[i] >= 0 : y[i] <= 0, $"gelu({x[i]}) = {y[i]} has the wrong sign");
    }

    [Fact]
    public void ErfIsWithinItsStatedError()
    {
        // The rational approximation is within 6.5e-8 in exact arithmetic; evaluated in float it measures 3.2e-7 at worst.
        double worst = 0;
        for (double z = -5; z <= 5; z += 0.001) worst = Math.Max(worst, Math.Abs(GeluExact.Erf((float)z) - Erf((float)z)));
        Assert.True(worst <= 4e-7, $"max |erf error| {worst:E2}");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(9)]
    [InlineData(37)]
    public void BackwardMatchesFiniteDifferences(int n)
    {
        var x = TestUtil.Random(3, n, 4f);
        var r = TestUtil.Random(4, n);
        var dx = new float[n];
        GeluExact.Backward(x, r, dx);
        TestUtil.Close(TestUtil.FiniteDifference(v => v.Select(Gelu).ToArray(), TestUtil.ToDouble(x), TestUtil.ToDouble(r)), dx, 1e-4, 1e-6);
    }
}

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

using Loom.Core.Kernels;
using Loom.Core.Threading;

namespace Loom.Core.Tests.Kernels;

// The whole-block passes of a training step (zeroing, global norm, clip scaling) against plain loops.
public class ArithmeticTests
{
    public static IEnumerable<object[]> Lengths()
    {
        foreach (int n in new[] { 0, 1, 15, 16, 17, 1000, Arithmetic.SquareSumChunk - 1, Arithmetic.SquareSumChunk + 17, 3 * Arithmetic.SquareSumChunk + 5 }) yield return [n];
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void SumOfSquaresMatchesDoubleAndIsTheSameAtAnyThreadCount(int n)
    {
        var x = TestUtil.Random(n + 7, n, 2f);
        double want = 0;
        foreach (float v in x) want += (double)v * v;
        using var one = new WorkerPool(1);
        using var two = new WorkerPool(2);
        double a = Arithmetic.SumOfSquares(x, one), b = Arithmetic.SumOfSquares(x, two);
        Assert.Equal(BitConverter.DoubleToInt64Bits(a), BitConverter.DoubleToInt64Bits(b));
        Assert.True(Math.Abs(a - want) <= 1e-5 * Math.Max(1, want), $"n={n}: double {want:R}, kernel {a:R}");
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void ClearAndScaleMatchPlainLoops(int n)
    {
        var x = TestUtil.Random(n + 3, n, 2f);
        var y = new float[n];
        using var two = new WorkerPool(2);
        Arithmetic.Scale(x, 0.37f, y, two);
        for (int i = 0; i < n; i++) Assert.Equal(x[i] * 0.37f, y[i]);
        var before = (float[])x.Clone();
        Arithmetic.Scale(x, 0.5f, x, two);   // in place
        for (int i = 0; i < n; i++) Assert.Equal(before[i] * 0.5f, x[i]);
        Arithmetic.Clear(y, two);
        Assert.All(y, v => Assert.Equal(0f, v));
    }
}

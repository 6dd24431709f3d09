// LogSoftmax.LogNormalizer against the double loop it replaced in the scorers (max, then Σ Math.Exp
// in double): every length 1..300 (all tails of every vector width), GPT-2's vocabulary size, ties
// (first index wins, as a strict > scan), and a row with a huge offset (the shift must be applied);
// 1e-6 relative: FastMath.Exp is float (≤ 2 ulp), the loop double.
using Loom.Core.Kernels;

namespace Loom.Core.Tests.Kernels;

public class LogSoftmaxTests
{
    private static double Reference(float[] row, out int arg)
    {
        float max = float.NegativeInfinity;
        arg = 0;
        for (int v = 0; v < row.Length; v++) if (row[v] > max) { max = row[v]; arg = v; }
        double z = 0;
        for (int v = 0; v < row.Length; v++) z += Math.Exp(row[v] - max);
        return max + Math.Log(z);
    }

    [Fact]
    public void MatchesTheDoubleLoopAtEveryLength()
    {
        foreach (int n in Enumerable.Range(1, 300).Append(4095).Append(4097).Append(50257))
        {
            var row = TestUtil.Random(n, n, 8f);
            double expected = Reference(row, out int arg);
            double actual = LogSoftmax.LogNormalizer(row, out int got);
            Assert.True(Math.Abs(expected - actual) <= 1e-6 * Math.Max(1, Math.Abs(expected)), $"n = {n}: {actual} vs {expected}");
            Assert.Equal(arg, got);
            Assert.Equal(row[arg] - expected, LogSoftmax.LogProbability(row, arg), 1e-6);
        }
    }

    [Fact]
    public void TiesGiveTheFirstIndexAndOffsetsAreShifted()
    {
        var row = new float[100];
        row[37] = row[80] = 5f;
        Assert.Equal(Reference(row, out _), LogSoftmax.LogNormalizer(row, out int arg), 1e-6);
        Assert.Equal(37, arg);
        var big = TestUtil.Random(7, 1000, 1f, 1000f);   // exp(1000) overflows without the shift
        Assert.Equal(Reference(big, out _), LogSoftmax.LogNormalizer(big, out _), 1e-6 * 1000);
    }
}

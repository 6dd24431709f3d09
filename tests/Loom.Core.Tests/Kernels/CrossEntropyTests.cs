using Loom.Core.Kernels;

namespace Loom.Core.Tests.Kernels;

public class CrossEntropyTests
{
    private static double MeanLoss(double[] z, int[] t, int vocab, int ignore)
    {
        double total = 0;
        int count = 0;
        for (int r = 0; r < t.Length; r++)
        {
            if (t[r] == ignore) continue;
            double max = double.NegativeInfinity;
            for (int j = 0; j < vocab; j++) max = Math.Max(max, z[r * vocab + j]);
            double sum = 0;
            for (int j = 0; j < vocab; j++) sum += Math.Exp(z[r * vocab + j] - max);
            total += Math.Log(sum) + max - z[r * vocab + t[r]];
            count++;
        }
        return count == 0 ? 0 : total / count;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(17)]
    [InlineData(67)]
    [InlineData(1001)]
    public void LossMatchesReference(int vocab)
    {
        int rows = 5;
        var z = TestUtil.Random(vocab, rows * vocab, 4f);
        var rng = new Random(vocab);
        var t = Enumerable.Range(0, rows).Select(_ => rng.Next(vocab)).ToArray();
        t[2] = -100;
        var losses = new float[rows];
        float loss = CrossEntropy.ForwardBackward(z, t, vocab, losses, default);
        Assert.Equal(MeanLoss(TestUtil.ToDouble(z), t, vocab, -100), loss, 1e-5);
        Assert.Equal(0f, losses[2]);
    }

    [Theory]
    [InlineData(3, 4)]
    [InlineData(2, 19)]
    public void GradientMatchesFiniteDifferencesAndIgnoredRowsAreZero(int rows, int vocab)
    {
        var z = TestUtil.Random(1, rows * vocab, 3f);
        var t = Enumerable.Range(0, rows).Select(i => (i * 7) % vocab).ToArray();
        t[^1] = -100;
        var losses = new float[rows];
        var d = new float[z.Length];
        CrossEntropy.ForwardBackward(z, t, vocab, losses, d, gradScale: 2f);
        var zd = TestUtil.ToDouble(z);
        var want = TestUtil.FiniteDifference(v => [2 * MeanLoss(v, t, vocab, -100)], zd, [1.0]);
        TestUtil.Close(want, d, 1e-4, 1e-6);
        Assert.All(d.AsSpan((rows - 1) * vocab).ToArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void GradientMayOverwriteLogits()
    {
        int rows = 4, vocab = 50;
        var z = TestUtil.Random(5, rows * vocab, 3f);
        var t = new[] { 1, 2, 3, 4 };
        var d = new float[z.Length];
        var l1 = CrossEntropy.ForwardBackward(z, t, vocab, new float[rows], d);
        var l2 = CrossEntropy.ForwardBackward(z, t, vocab, new float[rows], z);
        Assert.Equal(l1, l2);
        Assert.Equal(d, z);
    }

    [Fact]
    public void AllIgnoredGivesZeroLossAndGradient()
    {
        var z = TestUtil.Random(1, 6);
        var d = new float[6];
        Assert.Equal(0f, CrossEntropy.ForwardBackward(z, [-100, -100], 3, new float[2], d));
        Assert.All(d, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void BadTargetIsNamed()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => CrossEntropy.ForwardBackward(new float[6], [0, 3], 3, new float[2], default));
        Assert.Contains("row 1 is 3", ex.Message);
    }
}

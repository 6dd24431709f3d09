using Loom.Compression.Calibration;

namespace Loom.Compression.Tests.Calibration;

public sealed class ProjectionStatisticsTests
{
    [Fact]
    public void NormsAndHessianEqualTheNaiveSumsOverBatches()
    {
        int cols = 19;
        var rng = new Random(2);
        var x = Enumerable.Range(0, 37 * cols).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var s = new ProjectionStatistics(cols, gram: true);
        s.Add(x.AsSpan(0, 20 * cols), 20);
        s.Add(x.AsSpan(20 * cols), 17);
        Assert.Equal(37, s.Tokens);
        var xd = x.Select(v => (double)v).ToArray();
        var h = Fixture.Hessian(xd, 37, cols);
        var got = s.Hessian();
        for (int i = 0; i < h.Length; i++) Assert.Equal(h[i], got[i], 1e-5);
        for (int j = 0; j < cols; j++)
        {
            double n = 0;
            for (int t = 0; t < 37; t++) n += xd[t * cols + j] * xd[t * cols + j];
            Assert.Equal(n, s.SquaredNorms[j], 1e-9);
        }
    }

    [Fact]
    public void WindowsAreSpreadOverTheTextAndHoldTargets()
    {
        var ids = Enumerable.Range(0, 1000).ToArray();
        var w = CalibrationSamples.Windows(ids, 4, 100, "t");
        Assert.Equal(4, w.Count);
        Assert.All(w, x => Assert.Equal(101, x.Length));
        Assert.Equal(0, w[0][0]);
        Assert.Equal(999, w[3][100]);
        Assert.Equal(9, CalibrationSamples.Windows(ids, 50, 100, "t").Count);   // (1000 − 1) / 100 windows fit
        Assert.Throws<InvalidDataException>(() => CalibrationSamples.Windows(ids.AsSpan(0, 50), 4, 100, "short.txt"));
    }
}

using Loom.Compression.LowRank;

namespace Loom.Compression.Tests.LowRank;

public sealed class TruncatedSvdTests
{
    [Fact]
    public void SingularValuesAndRank5ReconstructionEqualNumpy()
    {
        int rows = Fixture.Int("svd_rows"), cols = Fixture.Int("svd_cols");
        var svd = TruncatedSvd.Compute(Fixture.Doubles("svd_A"), rows, cols);
        var s = Fixture.Doubles("svd_S");
        Assert.Equal(s.Length, svd.SingularValues.Count);
        for (int i = 0; i < s.Length; i++) Assert.Equal(s[i], svd.SingularValues[i], 1e-10);
        var (a, b) = svd.Factors(5);
        var expected = Fixture.Doubles("svd_rank5");
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
            {
                double v = 0;
                for (int k = 0; k < 5; k++) v += (double)b[r * 5 + k] * a[k * cols + c];
                Assert.Equal(expected[r * cols + c], v, 1e-5);
            }
    }

    [Fact]
    public void EnergyRankAndErrorFollowTheSpectrum()
    {
        var svd = TruncatedSvd.Compute(Fixture.Doubles("svd_A"), Fixture.Int("svd_rows"), Fixture.Int("svd_cols"));
        var s2 = Fixture.Doubles("svd_S").Select(v => v * v).ToArray();
        double total = s2.Sum();
        foreach (var e in new[] { 0.5, 0.9, 0.99, 1.0 })
        {
            int r = svd.RankForEnergy(e);
            Assert.True(s2.Take(r).Sum() >= e * total * (1 - 1e-12));
            if (r > 1) Assert.True(s2.Take(r - 1).Sum() < e * total);
            Assert.Equal(Math.Sqrt(s2.Skip(r).Sum() / total), svd.RelativeError(r), 1e-12);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => svd.RankForEnergy(0));
    }
}

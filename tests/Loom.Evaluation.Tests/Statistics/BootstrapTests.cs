// The percentile bootstrap against numpy (Fixtures/make_agreement_fixtures.py): numpy.percentile on
// random vectors exactly; the interval of a fixed 0/1 vector within Monte-Carlo error of numpy's
// 20 000-resample interval; and the coverage of the 95% interval for Bernoulli(0.3) means, which must
// match numpy's simulated coverage (0.9475 over 400 data sets) within sampling error.
using System.Text.Json.Nodes;
using Loom.Evaluation.Statistics;
using Loom.Evaluation.Tests.Agreement;

namespace Loom.Evaluation.Tests.Statistics;

public sealed class BootstrapTests
{
    [Fact]
    public void PercentileEqualsNumpyLinear()
    {
        foreach (var c in (JsonArray)InterRaterAgreementTests.Fixtures["percentile"]!)
        {
            var x = c!["x"]!.AsArray().Select(v => v!.GetValue<double>()).Order().ToArray();
            var q = c["q"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
            var p = c["p"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
            for (int i = 0; i < q.Length; i++) Assert.Equal(p[i], Bootstrap.Percentile(x, q[i]), 12);
        }
    }

    [Fact]
    public void IntervalOfAFixedVectorMatchesNumpys()
    {
        var b = InterRaterAgreementTests.Fixtures["bootstrap"]!;
        var x = b["fixed"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
        var ci = Bootstrap.Mean(x, resamples: 20000, seed: 3);
        Assert.Equal(x.Average(), ci.Value, 12);
        // Quantiles of a 20 000-resample bootstrap move by about one step of 1/60 between generators.
        Assert.InRange(ci.Lower, b["fixed_lower"]!.GetValue<double>() - 1.0 / 60 - 1e-9, b["fixed_lower"]!.GetValue<double>() + 1.0 / 60 + 1e-9);
        Assert.InRange(ci.Upper, b["fixed_upper"]!.GetValue<double>() - 1.0 / 60 - 1e-9, b["fixed_upper"]!.GetValue<double>() + 1.0 / 60 + 1e-9);
        Assert.Equal(b["fixed_se"]!.GetValue<double>(), ci.StandardError, 0.003);
    }

    [Fact]
    public void CoverageMatchesNumpysSimulation()
    {
        var b = InterRaterAgreementTests.Fixtures["bootstrap"]!;
        double p = b["p"]!.GetValue<double>();
        int n = b["n"]!.GetValue<int>(), sets = b["sets"]!.GetValue<int>(), resamples = b["resamples"]!.GetValue<int>();
        var rng = new Random(11);
        int covered = 0;
        var x = new double[n];
        for (int s = 0; s < sets; s++)
        {
            for (int i = 0; i < n; i++) x[i] = rng.NextDouble() < p ? 1 : 0;
            var ci = Bootstrap.Mean(x, resamples, 0.95, (ulong)s);
            if (ci.Lower <= p && p <= ci.Upper) covered++;
        }
        // Two coverage estimates over 400 sets each: standard error of the difference ≈ √(2·0.95·0.05/400) ≈ 0.015; 4 SE.
        Assert.InRange((double)covered / sets, b["coverage"]!.GetValue<double>() - 0.06, b["coverage"]!.GetValue<double>() + 0.06);
    }

    [Fact]
    public void SameSeedSameInterval()
    {
        double[] x = [1, 0, 1, 1, 0, 0, 1, 0, 1, 1];
        Assert.Equal(Bootstrap.Mean(x, seed: 5), Bootstrap.Mean(x, seed: 5));
        Assert.NotEqual(Bootstrap.Mean(x, seed: 5).Lower + Bootstrap.Mean(x, seed: 5).Upper, Bootstrap.Mean(x, resamples: 7, seed: 6).Lower + Bootstrap.Mean(x, resamples: 7, seed: 6).Upper);
    }
}

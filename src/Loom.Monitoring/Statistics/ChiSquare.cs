// Pearson's chi-squared goodness-of-fit of the current category counts against the reference's proportions, as
// Evidently's `chisquare` stattest calls scipy: f_exp = reference counts × n_cur/n_ref over the union of
// categories, scipy.stats.chisquare(f_obs, f_exp): χ² = Σ (o − e)²/e, p = chi2.sf(χ², k − 1). A category seen
// only in the current data has e = 0, so χ² = ∞ and p = 0, as in scipy.
namespace Loom.Monitoring.Statistics;

/// <summary>The chi-squared test on categories.</summary>
public static class ChiSquare
{
    /// <summary>χ² and its p-value for <paramref name="current"/> against <paramref name="reference"/>.</summary>
    public static TestResult Categories(IReadOnlyList<string> reference, IReadOnlyList<string> current)
    {
        if (reference.Count == 0 || current.Count == 0)
            throw new ArgumentException($"The chi-squared test needs values in both samples; got {reference.Count} reference and {current.Count} current values.");
        var h = Histogram.Categories(reference, current);
        int k = h.Labels.Count;
        if (k < 2) return new TestResult(0, 1);
        double scale = (double)current.Count / reference.Count, stat = 0;
        for (int i = 0; i < k; i++)
        {
            double observed = Math.Round(h.Current[i] * current.Count);
            double expected = Math.Round(h.Reference[i] * reference.Count) * scale;
            stat += expected == 0 ? (observed == 0 ? 0 : double.PositiveInfinity) : (observed - expected) * (observed - expected) / expected;
        }
        return new TestResult(stat, double.IsPositiveInfinity(stat) ? 0 : SpecialFunctions.ChiSquaredSurvival(stat, k - 1));
    }
}

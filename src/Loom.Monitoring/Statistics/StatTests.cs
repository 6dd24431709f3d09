// Runs a drift statistic on a column and decides drift with Evidently's default thresholds, and picks the default
// test per column the way Evidently 0.4's data-drift preset does (evidently/calculations/stattests/registry.py,
// _get_default_stattest): with at most 1,000 reference values a numeric column with more than 5 distinct values
// (reference ∪ current) gets KS, otherwise chi-squared (more than 2 values) or the z-test (binary), and a
// categorical column chi-squared or z; above 1,000 reference values a numeric column with more than 5 values gets
// the Wasserstein distance normalised by the reference's standard deviation, and everything else Jensen–Shannon.
// Thresholds (Evidently's defaults): p < 0.05 for KS, chi-squared and z; normed Wasserstein ≥ 0.1; PSI ≥ 0.1;
// KL ≥ 0.1. Evidently's Jensen–Shannon threshold, 0.1, is on scipy's distance; Loom's JS is the divergence
// (the distance squared), so its threshold is 0.1² = 0.01 — the same decision.
namespace Loom.Monitoring.Statistics;

/// <summary>Runs drift statistics and chooses the default one per column.</summary>
public static class StatTests
{
    /// <summary>Evidently's size boundary between the small-sample tests and the distance-based ones.</summary>
    public const int SmallReference = 1000;

    /// <summary>The CLI name of <paramref name="test"/>.</summary>
    public static string Name(StatTest test) => test.ToString().ToLowerInvariant();

    /// <summary>Parses a CLI name (ks, chi2, z, wasserstein, psi, kl, js); the error lists the names.</summary>
    public static StatTest Parse(string name, string option = "--test") => name.ToLowerInvariant() switch
    {
        "ks" => StatTest.Ks,
        "chi2" or "chisquare" => StatTest.Chi2,
        "z" => StatTest.Z,
        "wasserstein" => StatTest.Wasserstein,
        "psi" => StatTest.Psi,
        "kl" => StatTest.Kl,
        "js" or "jensenshannon" => StatTest.Js,
        _ => throw new ArgumentException($"{option} {name}: unknown test; use ks, chi2, z, wasserstein, psi, kl or js."),
    };

    /// <summary>The default threshold of <paramref name="test"/> (p-value below it, or score at or above it, is drift).</summary>
    public static double DefaultThreshold(StatTest test) => test switch
    {
        StatTest.Ks or StatTest.Chi2 or StatTest.Z => 0.05,
        StatTest.Js => 0.01,
        _ => 0.1,
    };

    /// <summary>Whether <paramref name="test"/> reports a p-value (drift when it is below the threshold).</summary>
    public static bool HasPValue(StatTest test) => test is StatTest.Ks or StatTest.Chi2 or StatTest.Z;

    /// <summary>Evidently's default test for a column.</summary>
    public static StatTest Default(bool numeric, int referenceCount, int distinctValues)
    {
        if (referenceCount <= SmallReference)
        {
            if (numeric && distinctValues > 5) return StatTest.Ks;
            return distinctValues > 2 ? StatTest.Chi2 : StatTest.Z;
        }
        return numeric && distinctValues > 5 ? StatTest.Wasserstein : StatTest.Js;
    }

    /// <summary>Runs <paramref name="test"/> on numeric samples.</summary>
    public static TestResult Run(StatTest test, ReadOnlySpan<double> reference, ReadOnlySpan<double> current)
    {
        if (reference.Length == 0 || current.Length == 0)
            throw new ArgumentException($"{Name(test)} needs values in both samples; got {reference.Length} reference and {current.Length} current values.");
        switch (test)
        {
            case StatTest.Ks: return KolmogorovSmirnov.TwoSample(reference, current);
            case StatTest.Wasserstein: return new TestResult(Wasserstein.Distance(reference, current), null);
            case StatTest.Chi2: return ChiSquare.Categories(AsCategories(reference), AsCategories(current));
            case StatTest.Z: return ProportionZTest.Categories(AsCategories(reference), AsCategories(current));
        }
        var h = Histogram.Deciles(reference, current);
        return Binned(test, h);
    }

    /// <summary>Runs <paramref name="test"/> on categorical samples (KS and Wasserstein need numbers).</summary>
    public static TestResult Run(StatTest test, IReadOnlyList<string> reference, IReadOnlyList<string> current)
    {
        if (reference.Count == 0 || current.Count == 0)
            throw new ArgumentException($"{Name(test)} needs values in both samples; got {reference.Count} reference and {current.Count} current values.");
        return test switch
        {
            StatTest.Chi2 => ChiSquare.Categories(reference, current),
            StatTest.Z => ProportionZTest.Categories(reference, current),
            StatTest.Ks or StatTest.Wasserstein => throw new ArgumentException($"{Name(test)} needs a numeric column; this one holds categories (use chi2, z, psi, kl or js)."),
            _ => Binned(test, Histogram.Categories(reference, current)),
        };
    }

    /// <summary>The verdict of <paramref name="test"/> on numeric samples.</summary>
    public static DriftVerdict Evaluate(StatTest test, ReadOnlySpan<double> reference, ReadOnlySpan<double> current, double? threshold = null)
    {
        var r = Run(test, reference, current);
        double score = r.PValue ?? r.Statistic;
        if (test == StatTest.Wasserstein)
        {
            // Evidently's wasserstein_distance_norm: W1 / std(reference) (population std); a constant reference
            // keeps the raw distance so any change still counts.
            double sd = StandardDeviation(reference);
            score = sd > 0 ? r.Statistic / sd : r.Statistic;
        }
        return Verdict(test, r, score, threshold);
    }

    /// <summary>The verdict of <paramref name="test"/> on categorical samples.</summary>
    public static DriftVerdict Evaluate(StatTest test, IReadOnlyList<string> reference, IReadOnlyList<string> current, double? threshold = null)
    {
        var r = Run(test, reference, current);
        return Verdict(test, r, r.PValue ?? r.Statistic, threshold);
    }

    private static DriftVerdict Verdict(StatTest test, TestResult r, double score, double? threshold)
    {
        double t = threshold ?? DefaultThreshold(test);
        bool drifted = HasPValue(test) ? score < t : score >= t;
        return new DriftVerdict(test, r.Statistic, r.PValue, score, t, drifted, r.Method);
    }

    private static TestResult Binned(StatTest test, Histogram h) => test switch
    {
        StatTest.Psi => new TestResult(Divergences.Psi(h.Reference, h.Current), null),
        StatTest.Kl => new TestResult(Divergences.KullbackLeibler(h.Reference, h.Current), null),
        StatTest.Js => new TestResult(Divergences.JensenShannon(h.Reference, h.Current), null),
        _ => throw new ArgumentOutOfRangeException(nameof(test), test, "Not a binned statistic."),
    };

    private static string[] AsCategories(ReadOnlySpan<double> values)
    {
        var s = new string[values.Length];
        for (int i = 0; i < values.Length; i++) s[i] = values[i].ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        return s;
    }

    private static double StandardDeviation(ReadOnlySpan<double> x)
    {
        double mean = 0;
        foreach (double v in x) mean += v;
        mean /= x.Length;
        double ss = 0;
        foreach (double v in x) ss += (v - mean) * (v - mean);
        return Math.Sqrt(ss / x.Length);
    }
}

// Percentile bootstrap confidence intervals (Efron & Tibshirani, "An Introduction to the Bootstrap",
// 1993, ch. 13): draw B resamples of the n per-example scores with replacement, compute the statistic
// on each, and take the (1−c)/2 and (1+c)/2 quantiles of the B values (numpy.percentile's default
// linear interpolation between order statistics). The standard error is the standard deviation of
// the B values (ddof 1). Seeded: the same scores and seed give the same interval on every machine.
using Loom.Evaluation.Splitting;

namespace Loom.Evaluation.Statistics;

/// <summary>Seeded percentile bootstrap.</summary>
public static class Bootstrap
{
    /// <summary>Interval of the mean of <paramref name="scores"/> (accuracy from 0/1 scores, mean F1, ...).</summary>
    public static BootstrapInterval Mean(ReadOnlySpan<double> scores, int resamples = 1000, double confidence = 0.95, ulong seed = 0)
    {
        double[] copy = scores.ToArray();
        return Statistic(copy.Length, idx => { double s = 0; foreach (int i in idx) s += copy[i]; return s / idx.Length; }, resamples, confidence, seed);
    }

    /// <summary>
    /// Interval of any statistic of n examples: <paramref name="statistic"/> receives the resampled
    /// indexes (length n, with repeats) — for corpus metrics such as F1 over the resampled set.
    /// </summary>
    public static BootstrapInterval Statistic(int n, Func<int[], double> statistic, int resamples = 1000, double confidence = 0.95, ulong seed = 0)
    {
        if (n < 1) throw new ArgumentException("the bootstrap needs at least one example.", nameof(n));
        if (resamples < 2) throw new ArgumentOutOfRangeException(nameof(resamples), resamples, "resamples must be ≥ 2 (1000 is usual).");
        if (!(confidence > 0 && confidence < 1)) throw new ArgumentOutOfRangeException(nameof(confidence), confidence, "confidence must lie strictly between 0 and 1 (e.g. 0.95).");
        var all = new int[n];
        for (int i = 0; i < n; i++) all[i] = i;
        double value = statistic(all);
        var rng = new SplitMix64(seed);
        var values = new double[resamples];
        var idx = new int[n];
        for (int b = 0; b < resamples; b++)
        {
            for (int i = 0; i < n; i++) idx[i] = rng.Next(n);
            values[b] = statistic(idx);
        }
        Array.Sort(values);
        double mean = values.Average(), ss = 0;
        foreach (double v in values) ss += (v - mean) * (v - mean);
        return new BootstrapInterval(value, Percentile(values, 50 * (1 - confidence)), Percentile(values, 50 * (1 + confidence)), confidence, resamples, Math.Sqrt(ss / (resamples - 1)));
    }

    /// <summary>numpy.percentile (method "linear") of sorted values, q in [0, 100].</summary>
    public static double Percentile(ReadOnlySpan<double> sorted, double q)
    {
        double pos = q / 100 * (sorted.Length - 1);
        int lo = (int)Math.Floor(pos);
        int hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }
}

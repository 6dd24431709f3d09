// Metrics of a regression head (num_labels: 1): mean squared and absolute error and R² as
// scikit-learn 1.2.1 (r2_score with force_finite: a constant target gives 1 for a perfect fit and 0
// otherwise), Pearson's r as scipy 1.10's pearsonr (centred, each vector normalised before the dot
// product, clipped to [−1, 1]) and Spearman's ρ as Pearson's r of average ranks (scipy's spearmanr).
// Both correlations are NaN when an input is constant, as scipy.
namespace Loom.Evaluation.Metrics;

/// <summary>MSE, MAE, R², Pearson and Spearman correlation, as scikit-learn and scipy.</summary>
public static class RegressionMetrics
{
    /// <summary>Mean of (yTrue − yPred)² (<c>mean_squared_error</c>).</summary>
    public static double MeanSquaredError(ReadOnlySpan<double> yTrue, ReadOnlySpan<double> yPred)
    {
        CheckPair(yTrue, yPred, 1);
        double sum = 0;
        for (int i = 0; i < yTrue.Length; i++) { double d = yTrue[i] - yPred[i]; sum += d * d; }
        return sum / yTrue.Length;
    }

    /// <summary>Mean of |yTrue − yPred| (<c>mean_absolute_error</c>).</summary>
    public static double MeanAbsoluteError(ReadOnlySpan<double> yTrue, ReadOnlySpan<double> yPred)
    {
        CheckPair(yTrue, yPred, 1);
        double sum = 0;
        for (int i = 0; i < yTrue.Length; i++) sum += Math.Abs(yTrue[i] - yPred[i]);
        return sum / yTrue.Length;
    }

    /// <summary>Coefficient of determination 1 − SS_res / SS_tot (<c>r2_score</c>, force_finite).</summary>
    public static double R2(ReadOnlySpan<double> yTrue, ReadOnlySpan<double> yPred)
    {
        CheckPair(yTrue, yPred, 2);
        double mean = Mean(yTrue), residual = 0, total = 0;
        for (int i = 0; i < yTrue.Length; i++)
        {
            double d = yTrue[i] - yPred[i], c = yTrue[i] - mean;
            residual += d * d;
            total += c * c;
        }
        if (total == 0) return residual == 0 ? 1.0 : 0.0;
        return 1 - residual / total;
    }

    /// <summary>Pearson's correlation coefficient (<c>scipy.stats.pearsonr(...)[0]</c>); NaN when an input is constant.</summary>
    public static double Pearson(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        CheckPair(x, y, 2, nameof(x), nameof(y));
        return PearsonCore(x, y);
    }

    /// <summary>Spearman's rank correlation, ties ranked by their average (<c>scipy.stats.spearmanr(...).correlation</c>).</summary>
    public static double Spearman(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        CheckPair(x, y, 2, nameof(x), nameof(y));
        return PearsonCore(AverageRanks(x), AverageRanks(y));
    }

    /// <summary>Ranks 1..n, ties sharing the mean of their ranks (<c>scipy.stats.rankdata(method="average")</c>).</summary>
    public static double[] AverageRanks(ReadOnlySpan<double> values)
    {
        int n = values.Length;
        var sorted = values.ToArray();
        var order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        Array.Sort(sorted, order);
        var ranks = new double[n];
        for (int start = 0; start < n;)
        {
            int end = start + 1;
            while (end < n && sorted[end] == sorted[start]) end++;
            double rank = 0.5 * (start + 1 + end);   // mean of ranks start+1 .. end
            for (int j = start; j < end; j++) ranks[order[j]] = rank;
            start = end;
        }
        return ranks;
    }

    private static double PearsonCore(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        if (IsConstant(x) || IsConstant(y)) return double.NaN;
        int n = x.Length;
        if (n == 2) return Math.Sign(x[1] - x[0]) * Math.Sign(y[1] - y[0]);
        double xMean = Mean(x), yMean = Mean(y), xx = 0, yy = 0;
        for (int i = 0; i < n; i++)
        {
            double a = x[i] - xMean, b = y[i] - yMean;
            xx += a * a;
            yy += b * b;
        }
        double xNorm = Math.Sqrt(xx), yNorm = Math.Sqrt(yy), r = 0;
        for (int i = 0; i < n; i++) r += (x[i] - xMean) / xNorm * ((y[i] - yMean) / yNorm);
        return Math.Max(Math.Min(r, 1.0), -1.0);
    }

    private static bool IsConstant(ReadOnlySpan<double> v)
    {
        foreach (double a in v) if (a != v[0]) return false;
        return true;
    }

    internal static double Mean(ReadOnlySpan<double> v)
    {
        double sum = 0;
        foreach (double a in v) sum += a;
        return sum / v.Length;
    }

    private static void CheckPair(ReadOnlySpan<double> a, ReadOnlySpan<double> b, int minimum, string nameA = "yTrue", string nameB = "yPred")
    {
        Check.NotEmpty(a.Length, nameA);
        Check.SameLength(a.Length, nameA, b.Length, nameB);
        if (a.Length < minimum)
            throw new ArgumentException($"{nameA} has {a.Length} sample(s): this metric needs at least {minimum}.", nameA);
        Check.Finite(a, nameA);
        Check.Finite(b, nameB);
    }
}

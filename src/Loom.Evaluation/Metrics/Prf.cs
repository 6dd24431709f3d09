// Precision, recall and F-beta from per-class counts, with scikit-learn's zero-division rules and
// averages: the one place these formulas live (single-label, multi-label and per-sample all come
// here). Operation order follows sklearn 1.2.1's precision_recall_fscore_support so results agree
// to the last bits: F = (1+β²)·P·R / (β²·P + R) with a zero denominator replaced by 1. With
// ZeroDivision.NaN the F-score is sklearn ≥ 1.3's (1+β²)·tp / ((1+β²)·tp + β²·fn + fp), NaN only when
// a class has neither true nor predicted samples, and averages skip NaN entries (_nanaverage).
namespace Loom.Evaluation.Metrics;

internal static class Prf
{
    public static double ZeroDivisionValue(ZeroDivision zeroDivision) => zeroDivision switch
    {
        ZeroDivision.One => 1.0,
        ZeroDivision.NaN => double.NaN,
        _ => 0.0,
    };

    /// <summary>Per-class precision, recall and F-beta from true-positive, predicted and true counts.</summary>
    public static void Scores(ReadOnlySpan<long> tp, ReadOnlySpan<long> predicted, ReadOnlySpan<long> truth, double beta,
        ZeroDivision zeroDivision, Span<double> precision, Span<double> recall, Span<double> fscore)
    {
        if (!(beta >= 0) || double.IsNaN(beta))
            throw new ArgumentOutOfRangeException(nameof(beta), beta, "beta must be a non-negative number (1 gives F1).");
        double zd = ZeroDivisionValue(zeroDivision), beta2 = beta * beta;
        for (int i = 0; i < tp.Length; i++)
        {
            precision[i] = predicted[i] == 0 ? zd : (double)tp[i] / predicted[i];
            recall[i] = truth[i] == 0 ? zd : (double)tp[i] / truth[i];
            if (double.IsPositiveInfinity(beta))
                fscore[i] = recall[i];
            else if (zeroDivision == ZeroDivision.NaN)
            {
                double denominator = beta2 * truth[i] + predicted[i];
                fscore[i] = denominator == 0 ? double.NaN : (1 + beta2) * tp[i] / denominator;
            }
            else
            {
                double denominator = beta2 * precision[i] + recall[i];
                if (denominator == 0) denominator = 1;
                fscore[i] = (1 + beta2) * precision[i] * recall[i] / denominator;
            }
        }
    }

    /// <summary>
    /// Averages per-class counts into one triple: micro sums the counts first; macro and weighted
    /// (weights = true counts) average the per-class scores.
    /// </summary>
    public static AveragedScores Averaged(ReadOnlySpan<long> tp, ReadOnlySpan<long> predicted, ReadOnlySpan<long> truth,
        double beta, ZeroDivision zeroDivision, Average average)
    {
        if (average == Average.Micro)
        {
            long t = Sum(tp), p = Sum(predicted), s = Sum(truth);
            Span<double> pr = stackalloc double[1], rc = stackalloc double[1], fs = stackalloc double[1];
            Scores([t], [p], [s], beta, zeroDivision, pr, rc, fs);
            return new AveragedScores(pr[0], rc[0], fs[0]);
        }
        int n = tp.Length;
        var precision = new double[n];
        var recall = new double[n];
        var fscore = new double[n];
        Scores(tp, predicted, truth, beta, zeroDivision, precision, recall, fscore);
        if (average == Average.Weighted)
        {
            if (Sum(truth) == 0)
            {
                // sklearn: no true sample of any listed class; precision is the zero-division value only
                // when nothing was predicted either.
                double zd = ZeroDivisionValue(zeroDivision);
                return Sum(predicted) == 0 ? new AveragedScores(zd, zd, zd) : new AveragedScores(0, zd, 0);
            }
            return new AveragedScores(Mean(precision, truth), Mean(recall, truth), Mean(fscore, truth));
        }
        return new AveragedScores(Mean(precision, default), Mean(recall, default), Mean(fscore, default));
    }

    /// <summary>np.average(values, weights) skipping NaN entries (sklearn's _nanaverage); plain mean when <paramref name="weights"/> is empty.</summary>
    public static double Mean(ReadOnlySpan<double> values, ReadOnlySpan<long> weights)
    {
        double sum = 0, weightSum = 0;
        int used = 0;
        for (int i = 0; i < values.Length; i++)
        {
            if (double.IsNaN(values[i])) continue;
            double w = weights.IsEmpty ? 1 : weights[i];
            sum += values[i] * w;
            weightSum += w;
            used++;
        }
        if (used == 0) return double.NaN;
        if (weightSum == 0)
        {
            // sklearn's _nanaverage falls back to the unweighted mean when the kept weights sum to zero
            sum = 0;
            for (int i = 0; i < values.Length; i++) if (!double.IsNaN(values[i])) sum += values[i];
            return sum / used;
        }
        return sum / weightSum;
    }

    public static long Sum(ReadOnlySpan<long> values)
    {
        long s = 0;
        foreach (long v in values) s += v;
        return s;
    }
}

// Embedding drift by a domain classifier (as Evidently's text-content drift and "Failing Loudly", Rabanser et al.
// 2019): label reference embeddings 0 and current ones 1 (each side subsampled, seeded, to the smaller count and at
// most MaxPerSide), fit an L2-regularised logistic regression in K-fold stratified cross-validation
// (Loom.Evaluation's StratifiedKFold) and score the out-of-fold predictions with ROC-AUC (Loom.Evaluation's,
// equal to scikit-learn). No drift leaves the classifier guessing (AUC ≈ 0.5); drift lets it tell the sides apart.
// Drift when AUC ≥ max(0.55, 0.5 + 3σ₀): 0.55 is Evidently's default threshold for its text-content drift test,
// and σ₀ = √((n1 + n2 + 1)/(12·n1·n2)) is the AUC's standard deviation when the sides do not differ (the
// Mann–Whitney null; Hanley & McNeil 1982), which keeps small windows (300 per side: 0.571) from flagging noise.
// The regression: full-batch gradient descent on the mean log-loss + λ/2·‖w‖² with a fixed step, from zero, a
// fixed number of epochs — deterministic, and enough for L2-normalised embeddings (features are standardised first).
using Loom.Evaluation.Metrics;
using Loom.Evaluation.Splitting;

namespace Loom.Monitoring.Embeddings;

/// <summary>The cross-validated ROC-AUC of telling current embeddings from reference ones.</summary>
public sealed record DomainClassifierResult(double RocAuc, int ReferenceCount, int CurrentCount, int Folds, double Threshold, bool Drifted);

/// <summary>Domain-classifier embedding drift.</summary>
public static class DomainClassifier
{
    /// <summary>Evidently's ROC-AUC threshold.</summary>
    public const double DefaultThreshold = 0.55;
    /// <summary>The most rows taken from each side.</summary>
    public const int MaxPerSide = 1000;

    /// <summary>Fits and scores the classifier; <paramref name="reference"/> and <paramref name="current"/> are rows of equal width.</summary>
    public static DomainClassifierResult Measure(IReadOnlyList<float[]> reference, IReadOnlyList<float[]> current, int folds = 5,
        double threshold = DefaultThreshold, ulong seed = 17, double lambda = 1e-3, int epochs = 200, double step = 0.5)
    {
        int n = Math.Min(Math.Min(reference.Count, current.Count), MaxPerSide);
        if (n < folds) throw new ArgumentException($"The domain classifier needs at least {folds} rows on each side (one per fold); got {reference.Count} reference and {current.Count} current rows.");
        var rng = new Random((int)(seed % int.MaxValue));
        var r = Sample(reference, n, rng);
        var c = Sample(current, n, rng);
        int d = r[0].Length;
        if (r.Concat(c).Any(x => x.Length != d)) throw new ArgumentException("Every embedding must have the same width.");
        var x = new double[2 * n][];
        var y = new int[2 * n];
        for (int i = 0; i < n; i++) { x[i] = r[i].Select(v => (double)v).ToArray(); x[n + i] = c[i].Select(v => (double)v).ToArray(); y[n + i] = 1; }
        Standardize(x);
        var fold = new StratifiedKFold(folds, shuffle: true, seed: seed).AssignFolds(y);
        var scores = new double[2 * n];
        for (int k = 0; k < folds; k++)
        {
            var train = Enumerable.Range(0, 2 * n).Where(i => fold[i] != k).ToArray();
            var (w, b) = Fit(x, y, train, lambda, epochs, step);
            for (int i = 0; i < 2 * n; i++)
                if (fold[i] == k) scores[i] = Dot(w, x[i]) + b;
        }
        double auc = RankingMetrics.RocAuc(y, scores);
        double cut = Math.Max(threshold, 0.5 + 3 * NullStandardDeviation(n, n));
        return new DomainClassifierResult(auc, n, n, folds, cut, auc >= cut);
    }

    /// <summary>The ROC-AUC's standard deviation when both sides come from one distribution (Mann–Whitney null).</summary>
    public static double NullStandardDeviation(int n1, int n2) => Math.Sqrt((n1 + n2 + 1.0) / (12.0 * n1 * n2));

    private static List<float[]> Sample(IReadOnlyList<float[]> rows, int n, Random rng)
    {
        var idx = Enumerable.Range(0, rows.Count).ToArray();
        rng.Shuffle(idx);
        return idx.Take(n).Order().Select(i => rows[i]).ToList();
    }

    private static void Standardize(double[][] x)
    {
        int d = x[0].Length;
        for (int j = 0; j < d; j++)
        {
            double mean = 0, ss = 0;
            foreach (var row in x) mean += row[j];
            mean /= x.Length;
            foreach (var row in x) ss += (row[j] - mean) * (row[j] - mean);
            double sd = Math.Sqrt(ss / x.Length);
            foreach (var row in x) row[j] = sd > 0 ? (row[j] - mean) / sd : 0;
        }
    }

    private static (double[] W, double B) Fit(double[][] x, int[] y, int[] rows, double lambda, int epochs, double step)
    {
        int d = x[0].Length;
        var w = new double[d];
        var g = new double[d];
        double b = 0;
        double lr = step / Math.Sqrt(d);
        for (int e = 0; e < epochs; e++)
        {
            Array.Clear(g);
            double gb = 0;
            foreach (int i in rows)
            {
                double p = 1 / (1 + Math.Exp(-(Dot(w, x[i]) + b)));
                double err = p - y[i];
                var xi = x[i];
                for (int j = 0; j < d; j++) g[j] += err * xi[j];
                gb += err;
            }
            for (int j = 0; j < d; j++) w[j] -= lr * (g[j] / rows.Length + lambda * w[j]);
            b -= lr * gb / rows.Length;
        }
        return (w, b);
    }

    private static double Dot(double[] a, double[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }
}

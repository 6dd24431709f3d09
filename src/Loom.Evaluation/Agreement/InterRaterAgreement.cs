// Inter-rater agreement.
//   Cohen's kappa (Cohen 1960; weighted: Cohen 1968) exactly as sklearn.metrics.cohen_kappa_score:
//   labels are the sorted union of both raters' labels; confusion C (rater 1 rows, rater 2 columns);
//   expected E = outer(row sums, column sums) / total; weights w_ij = 1 − δ_ij (none), |i − j|
//   (linear) or (i − j)² (quadratic), over label positions; κ = 1 − Σ w·C / Σ w·E.
//   Fleiss' kappa (Fleiss 1971) as statsmodels.stats.inter_rater.fleiss_kappa(method="fleiss") on an
//   items × categories count table with the same number n of ratings per item:
//   p_j = Σ_i n_ij / (N n), P_i = (Σ_j n_ij² − n) / (n (n − 1)), κ = (mean P_i − Σ p_j²) / (1 − Σ p_j²).
namespace Loom.Evaluation.Agreement;

/// <summary>Cohen's and Fleiss' kappa.</summary>
public static class InterRaterAgreement
{
    /// <summary>sklearn.metrics.cohen_kappa_score(a, b, weights=...). NaN when expected disagreement is 0 (sklearn also returns nan).</summary>
    public static double CohenKappa<T>(IReadOnlyList<T> a, IReadOnlyList<T> b, KappaWeights weights = KappaWeights.None) where T : IComparable<T>
    {
        if (a.Count != b.Count) throw new ArgumentException($"the raters rated {a.Count} and {b.Count} items; Cohen's kappa needs the same items from both.");
        if (a.Count == 0) throw new ArgumentException("no items rated by both raters; Cohen's kappa needs at least one.");
        var labels = a.Concat(b).Distinct().Order().ToList();
        var index = labels.Select((l, i) => (l, i)).ToDictionary(x => x.l, x => x.i);
        int k = labels.Count;
        var c = new double[k, k];
        for (int i = 0; i < a.Count; i++) c[index[a[i]], index[b[i]]]++;
        var rows = new double[k];
        var cols = new double[k];
        double total = a.Count;
        for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++) { rows[i] += c[i, j]; cols[j] += c[i, j]; }
        double observed = 0, expected = 0;
        for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++)
            {
                double w = weights switch
                {
                    KappaWeights.None => i == j ? 0 : 1,
                    KappaWeights.Linear => Math.Abs(i - j),
                    _ => (i - j) * (double)(i - j),
                };
                observed += w * c[i, j];
                expected += w * rows[i] * cols[j] / total;
            }
        return 1 - observed / expected;
    }

    /// <summary>statsmodels fleiss_kappa(table, method="fleiss"): table[item, category] = raters who chose it.</summary>
    public static double FleissKappa(int[,] table)
    {
        int N = table.GetLength(0), K = table.GetLength(1);
        if (N == 0 || K == 0) throw new ArgumentException("the table is empty; Fleiss' kappa needs items × categories counts.");
        int n = 0;
        for (int j = 0; j < K; j++) n += table[0, j];
        if (n < 2) throw new ArgumentException($"item 0 has {n} rating(s); Fleiss' kappa needs at least 2 raters per item.");
        var p = new double[K];
        double meanP = 0;
        for (int i = 0; i < N; i++)
        {
            int rowSum = 0;
            double sq = 0;
            for (int j = 0; j < K; j++) { rowSum += table[i, j]; sq += (double)table[i, j] * table[i, j]; p[j] += table[i, j]; }
            if (rowSum != n) throw new ArgumentException($"item {i} has {rowSum} ratings and item 0 has {n}; Fleiss' kappa needs the same number of ratings for every item (drop items some raters skipped).");
            meanP += (sq - n) / (n * (n - 1.0));
        }
        meanP /= N;
        double pe = 0;
        for (int j = 0; j < K; j++) { p[j] /= (double)N * n; pe += p[j] * p[j]; }
        return (meanP - pe) / (1 - pe);
    }

    /// <summary>The items × categories count table of raters' labels (ratings[r][i] = rater r's label of item i), categories sorted.</summary>
    public static (int[,] Table, IReadOnlyList<T> Categories) CountTable<T>(IReadOnlyList<IReadOnlyList<T>> ratings) where T : IComparable<T>
    {
        if (ratings.Count == 0) throw new ArgumentException("no raters.");
        int items = ratings[0].Count;
        if (ratings.Any(r => r.Count != items)) throw new ArgumentException("every rater must rate the same items.");
        var cats = ratings.SelectMany(r => r).Distinct().Order().ToList();
        var ix = cats.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => x.i);
        var table = new int[items, cats.Count];
        foreach (var r in ratings)
            for (int i = 0; i < items; i++) table[i, ix[r[i]]]++;
        return (table, cats);
    }
}

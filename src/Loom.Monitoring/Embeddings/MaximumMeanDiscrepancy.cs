// Embedding drift by the maximum mean discrepancy with a Gaussian (RBF) kernel (Gretton et al., "A Kernel
// Two-Sample Test", JMLR 2012, eq. 3 — the unbiased MMD²_u): mean k(x, x') over distinct reference pairs + the
// same over current pairs − 2 × mean k(x, y) across, k(a, b) = exp(−‖a − b‖² / (2σ²)), σ the median pairwise
// distance of the pooled sample (the median heuristic) unless given. The p-value is a permutation test: the share
// of seeded random relabellings of the pooled rows whose MMD²_u reaches the observed one ((count + 1)/(P + 1)).
namespace Loom.Monitoring.Embeddings;

/// <summary>MMD²_u, its kernel width and permutation p-value.</summary>
public sealed record MmdResult(double Mmd2, double Sigma, double PValue, int Permutations);

/// <summary>The RBF-kernel maximum mean discrepancy.</summary>
public static class MaximumMeanDiscrepancy
{
    /// <summary>The most rows taken from each side (the kernel matrix is (2n)²).</summary>
    public const int MaxPerSide = 500;

    /// <summary>MMD²_u with kernel width <paramref name="sigma"/> (null: the median heuristic).</summary>
    public static MmdResult Measure(IReadOnlyList<float[]> reference, IReadOnlyList<float[]> current, double? sigma = null, int permutations = 200, ulong seed = 17)
    {
        if (reference.Count < 2 || current.Count < 2) throw new ArgumentException($"MMD needs at least 2 rows on each side; got {reference.Count} and {current.Count}.");
        var rng = new Random((int)(seed % int.MaxValue));
        var r = Take(reference, rng);
        var c = Take(current, rng);
        var pooled = r.Concat(c).ToArray();
        int n = pooled.Length, m = r.Count;
        var d2 = new double[n, n];
        var distances = new List<double>(n * (n - 1) / 2);
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++)
            {
                double s = 0;
                for (int k = 0; k < pooled[i].Length; k++) { double t = pooled[i][k] - pooled[j][k]; s += t * t; }
                d2[i, j] = d2[j, i] = s;
                distances.Add(Math.Sqrt(s));
            }
        double width = sigma ?? Median(distances);
        if (!(width > 0)) width = 1;
        var K = new double[n, n];
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) K[i, j] = Math.Exp(-d2[i, j] / (2 * width * width));
        var labels = new int[n];
        for (int i = m; i < n; i++) labels[i] = 1;
        double observed = Mmd2(K, labels);
        int reach = 0;
        var perm = (int[])labels.Clone();
        for (int p = 0; p < permutations; p++)
        {
            rng.Shuffle(perm);
            if (Mmd2(K, perm) >= observed) reach++;
        }
        return new MmdResult(observed, width, (reach + 1.0) / (permutations + 1), permutations);
    }

    /// <summary>MMD²_u of the rows labelled 0 against those labelled 1, from the kernel matrix.</summary>
    internal static double Mmd2(double[,] K, int[] labels)
    {
        double xx = 0, yy = 0, xy = 0;
        long nx = 0, ny = 0;
        foreach (int l in labels) if (l == 0) nx++; else ny++;
        int n = labels.Length;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                if (i == j) continue;
                if (labels[i] == 0 && labels[j] == 0) xx += K[i, j];
                else if (labels[i] == 1 && labels[j] == 1) yy += K[i, j];
                else if (labels[i] == 0) xy += K[i, j];
            }
        return xx / (nx * (nx - 1)) + yy / (ny * (ny - 1)) - 2 * xy / (nx * ny);
    }

    private static List<float[]> Take(IReadOnlyList<float[]> rows, Random rng)
    {
        if (rows.Count <= MaxPerSide) return rows.ToList();
        var idx = Enumerable.Range(0, rows.Count).ToArray();
        rng.Shuffle(idx);
        return idx.Take(MaxPerSide).Order().Select(i => rows[i]).ToList();
    }

    private static double Median(List<double> v)
    {
        if (v.Count == 0) return 1;
        var s = v.ToArray();
        Array.Sort(s);
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }
}

// The first Wasserstein (earth mover's) distance between two empirical distributions on the line, as
// scipy.stats.wasserstein_distance computes it (scipy/stats/_stats_py.py, _cdf_distance with p = 1):
// the integral of |U(x) − V(x)| over the pooled sorted values, U and V the right-continuous ECDFs.
namespace Loom.Monitoring.Statistics;

/// <summary>The Wasserstein-1 distance.</summary>
public static class Wasserstein
{
    /// <summary>W1 between the empirical distributions of <paramref name="u"/> and <paramref name="v"/>.</summary>
    public static double Distance(ReadOnlySpan<double> u, ReadOnlySpan<double> v)
    {
        if (u.Length == 0 || v.Length == 0)
            throw new ArgumentException($"The Wasserstein distance needs values in both samples; got {u.Length} and {v.Length}.");
        var a = u.ToArray();
        var b = v.ToArray();
        var all = new double[a.Length + b.Length];
        a.CopyTo(all, 0);
        b.CopyTo(all, a.Length);
        Array.Sort(a);
        Array.Sort(b);
        Array.Sort(all);
        int i = 0, j = 0;
        double sum = 0;
        for (int k = 0; k < all.Length - 1; k++)
        {
            double x = all[k];
            while (i < a.Length && a[i] <= x) i++;
            while (j < b.Length && b[j] <= x) j++;
            sum += Math.Abs((double)i / a.Length - (double)j / b.Length) * (all[k + 1] - x);
        }
        return sum;
    }
}

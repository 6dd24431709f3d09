// Binned proportions for PSI, KL and JS (issue 17): numeric columns go into 10 bins cut at the reference deciles
// (numpy.quantile linear at 0.1 … 0.9), the outer bins open, a value equal to an edge in the upper bin (as
// numpy.searchsorted(edges, x, side='right')); categorical columns into one bin per category of the union,
// ordered by ordinal string comparison.
namespace Loom.Monitoring.Statistics;

/// <summary>Reference and current proportions over shared bins.</summary>
/// <param name="Reference">Reference proportions per bin.</param>
/// <param name="Current">Current proportions per bin.</param>
/// <param name="Labels">A label per bin: "(-inf, e1)", "[e1, e2)", …, or the category.</param>
public sealed record Histogram(IReadOnlyList<string> Labels, double[] Reference, double[] Current)
{
    /// <summary>The number of decile bins.</summary>
    public const int DecileBins = 10;

    /// <summary>Bins at the reference deciles.</summary>
    public static Histogram Deciles(ReadOnlySpan<double> reference, ReadOnlySpan<double> current)
    {
        var edges = DecileEdges(reference);
        var labels = new string[DecileBins];
        for (int i = 0; i < DecileBins; i++)
        {
            string lo = i == 0 ? "-inf" : edges[i - 1].ToString("G6", System.Globalization.CultureInfo.InvariantCulture);
            string hi = i == DecileBins - 1 ? "inf" : edges[i].ToString("G6", System.Globalization.CultureInfo.InvariantCulture);
            labels[i] = $"[{lo}, {hi})";
        }
        return new Histogram(labels, Proportions(edges, reference), Proportions(edges, current));
    }

    /// <summary>The nine inner edges: numpy.quantile(reference, linspace(0.1, 0.9, 9)).</summary>
    public static double[] DecileEdges(ReadOnlySpan<double> reference)
    {
        var sorted = reference.ToArray();
        Array.Sort(sorted);
        var qs = Quantile.Linspace(0.1, 0.9, 9);
        var edges = new double[9];
        for (int i = 0; i < 9; i++) edges[i] = Quantile.Linear(sorted, qs[i]);
        return edges;
    }

    /// <summary>Bins over the union of categories.</summary>
    public static Histogram Categories(IReadOnlyList<string> reference, IReadOnlyList<string> current)
    {
        var keys = reference.Concat(current).Distinct().Order(StringComparer.Ordinal).ToArray();
        var index = keys.Select((k, i) => (k, i)).ToDictionary(t => t.k, t => t.i, StringComparer.Ordinal);
        var r = new double[keys.Length];
        var c = new double[keys.Length];
        foreach (var v in reference) r[index[v]]++;
        foreach (var v in current) c[index[v]]++;
        for (int i = 0; i < keys.Length; i++) { r[i] /= reference.Count; c[i] /= current.Count; }
        return new Histogram(keys, r, c);
    }

    private static double[] Proportions(double[] edges, ReadOnlySpan<double> values)
    {
        var p = new double[DecileBins];
        foreach (double x in values)
        {
            int bin = 0;
            while (bin < edges.Length && edges[bin] <= x) bin++;
            p[bin]++;
        }
        for (int i = 0; i < p.Length; i++) p[i] /= values.Length;
        return p;
    }
}

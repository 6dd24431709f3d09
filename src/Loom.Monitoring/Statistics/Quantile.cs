// numpy.quantile(a, q) with the default method='linear' (numpy 1.24, lib/function_base.py _quantile and _lerp):
// virtual index (n − 1)·q, then a lerp that is evaluated from the upper neighbour when the fraction is ≥ ½,
// so the edges it returns are bit-identical to numpy's.
namespace Loom.Monitoring.Statistics;

/// <summary>Linear-interpolation quantiles of sorted data.</summary>
public static class Quantile
{
    /// <summary>The q-quantile of <paramref name="sorted"/> (ascending).</summary>
    public static double Linear(ReadOnlySpan<double> sorted, double q)
    {
        if (sorted.Length == 0) throw new ArgumentException("A quantile of no values is undefined.");
        double index = (sorted.Length - 1) * q;
        int lo = (int)Math.Floor(index);
        if (lo >= sorted.Length - 1) return sorted[^1];
        if (lo < 0) return sorted[0];
        double t = index - lo, a = sorted[lo], b = sorted[lo + 1], diff = b - a;
        return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
    }

    /// <summary>numpy.linspace(start, stop, count) as numpy computes it: i·step + start, the last one exactly stop.</summary>
    public static double[] Linspace(double start, double stop, int count)
    {
        var y = new double[count];
        double step = (stop - start) / (count - 1);
        for (int i = 0; i < count; i++) y[i] = i * step + start;
        y[^1] = stop;
        return y;
    }
}

// A Prometheus histogram of seconds with fixed buckets (cumulative counts, _sum, _count), as the
// exposition format defines it (prometheus.io/docs/instrumenting/exposition_formats). Observations
// take a lock: a few per generated token, far below the cost of the token itself.
using System.Globalization;
using System.Text;

namespace Loom.Serving.Metrics;

/// <summary>A fixed-bucket histogram of durations in seconds.</summary>
public sealed class LatencyHistogram
{
    private readonly double[] _bounds;
    private readonly long[] _counts;   // per bucket, not cumulative; the last is +Inf
    private double _sum;
    private long _count;
    private readonly Lock _lock = new();

    public LatencyHistogram(params double[] bounds)
    {
        _bounds = bounds;
        _counts = new long[bounds.Length + 1];
    }

    public long Count { get { lock (_lock) return _count; } }

    public void Observe(double seconds)
    {
        int i = 0;
        while (i < _bounds.Length && seconds > _bounds[i]) i++;
        lock (_lock)
        {
            _counts[i]++;
            _sum += seconds;
            _count++;
        }
    }

    /// <summary>Appends the histogram's lines under <paramref name="name"/>.</summary>
    public void Write(StringBuilder sb, string name, string help)
    {
        sb.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
        sb.Append("# TYPE ").Append(name).Append(" histogram\n");
        lock (_lock)
        {
            long cumulative = 0;
            for (int i = 0; i < _counts.Length; i++)
            {
                cumulative += _counts[i];
                string le = i < _bounds.Length ? _bounds[i].ToString("R", CultureInfo.InvariantCulture) : "+Inf";
                sb.Append(name).Append("_bucket{le=\"").Append(le).Append("\"} ").Append(cumulative).Append('\n');
            }
            sb.Append(name).Append("_sum ").Append(_sum.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
            sb.Append(name).Append("_count ").Append(_count).Append('\n');
        }
    }
}

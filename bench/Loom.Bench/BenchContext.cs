// What a suite receives: thread counts to run, a step bound, and a sink for rows.
using System.Diagnostics;
using Loom.Core.Threading;

namespace Loom.Bench;

/// <summary>Settings and output of one suite run.</summary>
public sealed class BenchContext
{
    /// <summary>Thread counts to measure (from --threads, else 1 and all cores).</summary>
    public required IReadOnlyList<int> Threads { get; init; }

    /// <summary>Seconds to spend timing each case (from --seconds).</summary>
    public double SecondsPerCase { get; init; } = 1.0;

    /// <summary>Case-name filter (from --filter); a case runs when its name contains it.</summary>
    public string? Filter { get; init; }

    /// <summary>Step bound for training suites (from --steps).</summary>
    public int? Steps { get; init; }

    /// <summary>Rows collected so far.</summary>
    public List<BenchRow> Rows { get; } = new();

    private readonly Dictionary<int, WorkerPool> _pools = new();

    /// <summary>A pool with exactly <paramref name="threads"/> threads, made once per run.</summary>
    public WorkerPool Pool(int threads)
    {
        if (!_pools.TryGetValue(threads, out var p)) _pools[threads] = p = new WorkerPool(threads);
        return p;
    }

    public bool Selected(string caseName) => Filter is null || caseName.Contains(Filter, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Median seconds per call of <paramref name="action"/>: warm up, then time batches until
    /// <see cref="SecondsPerCase"/> is spent (at least 3 samples).
    /// </summary>
    public double Time(Action action)
    {
        action();
        var sw = Stopwatch.StartNew();
        action();
        double once = Math.Max(sw.Elapsed.TotalSeconds, 1e-7);
        int perSample = (int)Math.Clamp(0.05 / once, 1, 1_000_000);
        var samples = new List<double>();
        var total = Stopwatch.StartNew();
        while (samples.Count < 3 || (total.Elapsed.TotalSeconds < SecondsPerCase && samples.Count < 1000))
        {
            sw.Restart();
            for (int i = 0; i < perSample; i++) action();
            samples.Add(sw.Elapsed.TotalSeconds / perSample);
        }
        samples.Sort();
        return samples[samples.Count / 2];
    }
}

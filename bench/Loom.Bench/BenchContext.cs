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

    /// <summary>
    /// Time by process CPU time divided by the thread count instead of wall time (from --cpu-time):
    /// on a machine shared with other jobs, time spent descheduled does not count. Exact for one
    /// thread; for work split evenly over threads it approximates wall time (spin-waiting counts
    /// against the kernel), but serial sections during which the other threads sleep are
    /// undercounted, so multi-thread rows of uneven work (a training step) should use wall time.
    /// Reported figures say which clock.
    /// </summary>
    public bool CpuTime { get; init; }

    /// <summary>Seconds on the suite's clock: wall time, or process CPU time ÷ <paramref name="threads"/> with --cpu-time.</summary>
    public double Now(int threads = 1) => CpuTime ? ProcessCpuSeconds() / threads : Stopwatch.GetTimestamp() / (double)Stopwatch.Frequency;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern unsafe int ClockGetTime(int clock, long* timespec);

    internal static unsafe double ProcessCpuSeconds()
    {
        long* t = stackalloc long[2]; // struct timespec { tv_sec; tv_nsec; } on 64-bit Linux
        ClockGetTime(2, t);           // CLOCK_PROCESS_CPUTIME_ID
        return t[0] + t[1] * 1e-9;
    }

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
    public double Time(Action action, int threads = 1)
    {
        action();
        double start = Now(threads);
        action();
        double once = Math.Max(Now(threads) - start, 1e-7);
        int perSample = (int)Math.Clamp(0.05 / once, 1, 1_000_000);
        var samples = new List<double>();
        var total = Stopwatch.StartNew();
        while (samples.Count < 3 || (total.Elapsed.TotalSeconds < SecondsPerCase && samples.Count < 1000))
        {
            start = Now(threads);
            for (int i = 0; i < perSample; i++) action();
            samples.Add((Now(threads) - start) / perSample);
        }
        samples.Sort();
        return samples[samples.Count / 2];
    }
}

// Where a training step's time goes: a per-op accumulator that model code wraps around each kernel
// call (`using (OpProfiler.Op("gemm", "fwd c_fc")) ...`). Off by default, and then a call costs one
// static bool read and returns an empty scope (nothing allocated, nothing timed).
// The clock is the calling thread's CPU time (CLOCK_THREAD_CPUTIME_ID on Linux): with a pool of one
// thread every kernel runs inline on the caller, so the per-op sums are exact CPU seconds and are not
// inflated by time spent descheduled on a shared machine; with more threads they count only the
// caller's share (use wall time then: Clock = Wall). Not thread-safe: one profiled model per process.
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Loom.Core.Diagnostics;

/// <summary>Which clock <see cref="OpProfiler"/> reads.</summary>
public enum ProfilerClock
{
    /// <summary>CPU time of the calling thread (exact for a one-thread pool); wall time where the OS has no thread clock.</summary>
    ThreadCpu,

    /// <summary>Wall time (Stopwatch).</summary>
    Wall,
}

/// <summary>One op's total: <paramref name="Seconds"/> over <paramref name="Calls"/> calls.</summary>
public sealed record OpTime(string Category, string Name, double Seconds, long Calls);

/// <summary>Accumulates time per named op while <see cref="Enabled"/>.</summary>
public static class OpProfiler
{
    private static readonly Dictionary<(string, string), (long Ticks, long Calls)> s_totals = new();
    private static readonly List<(string, string)> s_order = new();

    /// <summary>Whether <see cref="Op"/> times anything (default false).</summary>
    public static bool Enabled { get; set; }

    /// <summary>The clock to read (default the calling thread's CPU time).</summary>
    public static ProfilerClock Clock { get; set; } = ProfilerClock.ThreadCpu;

    /// <summary>Times the scope's lifetime under (<paramref name="category"/>, <paramref name="name"/>) when enabled.</summary>
    public static Scope Op(string category, string name) => Enabled ? new Scope(category, name, Now()) : default;

    /// <summary>The ops seen since the last <see cref="Reset"/>, in first-seen order.</summary>
    public static IReadOnlyList<OpTime> Snapshot()
    {
        var list = new List<OpTime>(s_order.Count);
        foreach (var key in s_order)
        {
            var (ticks, calls) = s_totals[key];
            list.Add(new OpTime(key.Item1, key.Item2, ticks * 1e-9, calls));
        }
        return list;
    }

    /// <summary>Forgets every total.</summary>
    public static void Reset()
    {
        s_totals.Clear();
        s_order.Clear();
    }

    private static void Record(string category, string name, long start)
    {
        long elapsed = Now() - start;
        var key = (category, name);
        if (s_totals.TryGetValue(key, out var t)) s_totals[key] = (t.Ticks + elapsed, t.Calls + 1);
        else
        {
            s_totals[key] = (elapsed, 1);
            s_order.Add(key);
        }
    }

    // Nanoseconds on the selected clock.
    private static unsafe long Now()
    {
        if (Clock == ProfilerClock.ThreadCpu && OperatingSystem.IsLinux())
        {
            long* ts = stackalloc long[2];   // struct timespec { tv_sec; tv_nsec; } on 64-bit Linux
            if (ClockGetTime(3, ts) == 0) return ts[0] * 1_000_000_000L + ts[1];   // 3 = CLOCK_THREAD_CPUTIME_ID
        }
        return (long)(Stopwatch.GetTimestamp() * (1e9 / Stopwatch.Frequency));
    }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern unsafe int ClockGetTime(int clock, long* timespec);

    /// <summary>An open timing scope; disposing it adds the elapsed time to its op.</summary>
    public readonly struct Scope : IDisposable
    {
        private readonly string? _category, _name;
        private readonly long _start;

        internal Scope(string category, string name, long start)
        {
            _category = category;
            _name = name;
            _start = start;
        }

        /// <inheritdoc/>
        public void Dispose()
        {
            if (_name is not null) Record(_category!, _name, _start);
        }
    }
}

// One persistent pool of threads, sized to the cores, that runs every parallel loop in Loom.
// A job is a struct implementing IParallelJob; Run hands each thread its index and the thread
// count, and the job splits its own work with Partition, so the split is fixed and every run
// with the same thread count reduces in the same order (determinism, STYLE.md §6).
// Zero allocation per Run: the job struct is copied into a runner object cached per job type.
//
// Hand-off: spin, then block. A decode step of GPT-2 124M makes ~60 parallel calls of 20–100 µs
// each, with a few µs of serial work between them, so what a call costs to start and to join
// matters as much as the kernel. llama.cpp's CPU backend keeps its threads polling an atomic
// between ops (ggml-cpu's threadpool: `ggml_barrier` spins; idle threads poll before they sleep on
// a condition variable). Here each worker waits on its own go-ticket (one cache line each) and the
// caller on a pending count: both are polled — with the CPU's pause instruction for the first
// LOOM_POOL_PAUSE_US µs (default 0), then yielding the core between polls — for up to SpinMicroseconds, and only then does the thread
// block on a monitor, so an idle process stops burning CPU within that bound. The previous hand-off (ManualResetEventSlim with spinCount 2000)
// spun with sched_yield/Sleep(0) between polls: a system call each, which on this machine (kernel
// page-table isolation, no PCID) also flushes the TLB of a core about to stream weights.
// No wake-up is lost: the waiter publishes "sleeping" with an interlocked write and then re-reads
// the ticket; the signaller bumps the ticket with an interlocked write and then reads "sleeping"
// (both full fences, Dekker's pattern), so at least one of them sees the other.
using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;

namespace Loom.Core.Threading;

/// <summary>A unit of parallel work: called once per thread with that thread's index.</summary>
public interface IParallelJob
{
    /// <summary>Does this thread's share: <paramref name="threadIndex"/> in [0, <paramref name="threadCount"/>).</summary>
    void Execute(int threadIndex, int threadCount);
}

/// <summary>A fixed set of threads that run <see cref="IParallelJob"/>s.</summary>
public sealed class WorkerPool : IDisposable
{
    private abstract class Runner
    {
        public abstract void Execute(int threadIndex, int threadCount);
    }

    private sealed class Runner<TJob> : Runner where TJob : struct, IParallelJob
    {
        public TJob Job;
        public override void Execute(int threadIndex, int threadCount)
        {
            TJob copy = Job;
            copy.Execute(threadIndex, threadCount);
        }
    }

    // One worker's go-ticket and sleeping flag, alone on their cache line (the 64 bytes in front
    // keep the previous element's fields off it whatever the array's alignment).
    [StructLayout(LayoutKind.Explicit, Size = 128)]
    private struct Slot
    {
        [FieldOffset(64)] public long Go;
        [FieldOffset(72)] public int Sleeping;
    }

    // One thread's share of a balanced job (Ranges.RunBalanced), alone on a line: the units [front, back) it has not
    // handed out yet, packed as front | back << 32 so that the owner's claim from the front and a thief's from the
    // back are one compare-exchange each. The owner's claims hit its own line; only stealing crosses cores.
    [StructLayout(LayoutKind.Explicit, Size = 128)]
    private struct Share
    {
        [FieldOffset(64)] public long Units;
    }

    // The caller's join state, likewise alone on a line.
    [StructLayout(LayoutKind.Explicit, Size = 128)]
    private struct JoinState
    {
        [FieldOffset(64)] public int Pending;
        [FieldOffset(68)] public int CallerSleeping;
    }

    /// <summary>Default bound on polling before a waiting thread blocks (µs); <c>LOOM_POOL_SPIN_US</c> overrides it.</summary>
    public const int DefaultSpinMicroseconds = 100;

    private static readonly Lazy<WorkerPool> s_shared = new(() => new WorkerPool(DefaultThreadCount()));

    [ThreadStatic] private static WorkerPool? t_runningIn;

    private readonly Thread[] _threads;
    private readonly Slot[] _slots;
    private readonly Share[] _shares;
    private readonly object[] _gates;
    private readonly object _joinGate = new();
    private readonly object _failureLock = new();
    private readonly Dictionary<Type, Runner> _runners = new();
    private readonly object _runLock = new();
    private readonly long _spinTicks, _pauseTicks;
    private JoinState _join;
    private Runner? _current;
    private int _activeThreads;
    private ExceptionDispatchInfo? _failure;
    private volatile bool _disposed;

    /// <summary>The process-wide pool: <c>LOOM_THREADS</c> threads if set, else one per core.</summary>
    public static WorkerPool Shared => s_shared.Value;

    /// <summary>Creates a pool of <paramref name="threadCount"/> threads (the caller counts as thread 0).</summary>
    public WorkerPool(int threadCount) : this(threadCount, DefaultSpin()) { }

    /// <summary>
    /// Creates a pool of <paramref name="threadCount"/> threads whose waiting threads poll for up to
    /// <paramref name="spinMicroseconds"/> µs before they block (0: block at once).
    /// </summary>
    public WorkerPool(int threadCount, int spinMicroseconds)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threadCount, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(spinMicroseconds);
        ThreadCount = threadCount;
        SpinMicroseconds = spinMicroseconds;
        _spinTicks = (long)(spinMicroseconds * 1e-6 * Stopwatch.Frequency);
        _pauseTicks = (long)(Math.Min(spinMicroseconds, PauseMicroseconds) * 1e-6 * Stopwatch.Frequency);
        _threads = new Thread[threadCount - 1];
        _slots = new Slot[threadCount - 1];
        _shares = new Share[threadCount];
        _gates = new object[threadCount - 1];
        for (int i = 0; i < _threads.Length; i++)
        {
            _gates[i] = new object();
            int index = i + 1;
            _threads[i] = new Thread(() => WorkerLoop(index)) { IsBackground = true, Name = $"loom-worker-{index}" };
            _threads[i].Start();
        }
    }

    /// <summary>Number of threads a job is split across, the caller included.</summary>
    public int ThreadCount { get; }

    /// <summary>How long (µs) a waiting thread polls before it blocks.</summary>
    public int SpinMicroseconds { get; }

    /// <summary>
    /// Whether <see cref="Ranges.RunBalanced{TKernel}"/> lets threads take work from each other's shares
    /// (<c>LOOM_POOL_BALANCED=1</c> turns it on for the process) or runs fixed shares like <see cref="Ranges.Run{TKernel}"/>
    /// (default). Results are the same either way; benches flip it to compare. Off by default: in six alternating
    /// pairs of `quant --filter decode-matvec:q8_0` at 2 threads (CPU time, load ~5, 2026-12-02 17:27) balanced
    /// shares were slower in five (19.7–25.5 GB/s against 19.3–34.7 fixed); not yet measured on a quiet machine.
    /// </summary>
    public bool Balanced { get; set; } = s_balanced;

    private static readonly bool s_balanced = EnvironmentCount("LOOM_POOL_BALANCED", 0, 0) != 0;

    /// <summary>
    /// Runs <paramref name="job"/> on every thread and returns when all are done. A Run from inside
    /// a job, or on a pool of one thread, runs inline as thread 0 of 1. At most
    /// <paramref name="maxThreads"/> threads take part (small jobs use fewer). The first
    /// exception a thread throws is rethrown here after all threads finish.
    /// </summary>
    public void Run<TJob>(in TJob job, int maxThreads = int.MaxValue) where TJob : struct, IParallelJob => Run(job, maxThreads, 0);

    /// <summary>
    /// <see cref="Run{TJob}(in TJob, int)"/> for a job that hands out <paramref name="shareUnits"/> units of work
    /// through <see cref="ClaimFront"/> and <see cref="ClaimBack"/> (0: none): thread t's share starts as its
    /// <see cref="Partition"/> of them, set before any thread starts.
    /// </summary>
    internal void Run<TJob>(in TJob job, int maxThreads, int shareUnits) where TJob : struct, IParallelJob
    {
        int threads = Math.Min(ThreadCount, Math.Max(1, maxThreads));
        if (threads == 1 || t_runningIn != null)
        {
            job.Execute(0, 1);
            return;
        }
        ObjectDisposedException.ThrowIf(_disposed, this);
        lock (_runLock)
        {
            var runner = GetRunner<TJob>();
            runner.Job = job;
            _current = runner;
            _activeThreads = threads;
            _failure = null;
            Volatile.Write(ref _join.Pending, threads - 1);
            if (shareUnits > 0)
                for (int t = 0; t < threads; t++)
                {
                    var (s, e) = Partition(shareUnits, t, threads);
                    _shares[t].Units = (uint)s | (long)e << 32;
                }
            // Workers 1..threads-1 only: the others keep waiting (their tickets do not move).
            for (int i = 0; i < threads - 1; i++) Signal(i);

            t_runningIn = this;
            try
            {
                runner.Execute(0, threads);
            }
            catch (Exception e)
            {
                lock (_failureLock) _failure ??= ExceptionDispatchInfo.Capture(e);
            }
            finally
            {
                t_runningIn = null;
            }
            if (Volatile.Read(ref _join.Pending) != 0) AwaitJoin();
            runner.Job = default;
            _current = null;
            _failure?.Throw();
        }
    }

    /// <summary>The fixed contiguous share [start, end) of <paramref name="total"/> items for one thread.</summary>
    public static (int Start, int End) Partition(int total, int threadIndex, int threadCount)
    {
        int baseCount = total / threadCount, extra = total % threadCount;
        int start = threadIndex * baseCount + Math.Min(threadIndex, extra);
        int end = start + baseCount + (threadIndex < extra ? 1 : 0);
        return (start, end);
    }

    /// <summary>
    /// Like <see cref="Partition"/> but in whole units of <paramref name="granule"/> items, so
    /// shares stay aligned to SIMD vectors or cache lines; the last share takes the remainder.
    /// </summary>
    public static (int Start, int End) PartitionAligned(int total, int granule, int threadIndex, int threadCount)
    {
        int units = (total + granule - 1) / granule;
        var (s, e) = Partition(units, threadIndex, threadCount);
        return (Math.Min(s * granule, total), Math.Min(e * granule, total));
    }

    /// <summary>
    /// Takes up to <paramref name="chunk"/> units from the front of thread <paramref name="thread"/>'s share of the
    /// running balanced job into [<paramref name="start"/>, <paramref name="end"/>); false when the share is empty.
    /// </summary>
    internal bool ClaimFront(int thread, int chunk, out int start, out int end)
    {
        ref long units = ref _shares[thread].Units;
        while (true)
        {
            long seen = Volatile.Read(ref units);
            int front = (int)(uint)seen, back = (int)(seen >> 32);
            if (front >= back) { start = end = back; return false; }
            int next = Math.Min(back, front + chunk);
            if (Interlocked.CompareExchange(ref units, (uint)next | (long)back << 32, seen) == seen)
            {
                (start, end) = (front, next);
                return true;
            }
        }
    }

    /// <summary>Takes up to <paramref name="chunk"/> units from the back of thread <paramref name="thread"/>'s share (stealing).</summary>
    internal bool ClaimBack(int thread, int chunk, out int start, out int end)
    {
        ref long units = ref _shares[thread].Units;
        while (true)
        {
            long seen = Volatile.Read(ref units);
            int front = (int)(uint)seen, back = (int)(seen >> 32);
            if (front >= back) { start = end = front; return false; }
            int next = Math.Max(front, back - chunk);
            if (Interlocked.CompareExchange(ref units, (uint)front | (long)next << 32, seen) == seen)
            {
                (start, end) = (next, back);
                return true;
            }
        }
    }

    /// <summary>How many threads a job of <paramref name="work"/> units should use, at <paramref name="minWorkPerThread"/> units each.</summary>
    public int ThreadsFor(long work, long minWorkPerThread) =>
        (int)Math.Clamp(work / Math.Max(1, minWorkPerThread), 1, ThreadCount);

    private Runner<TJob> GetRunner<TJob>() where TJob : struct, IParallelJob
    {
        if (_runners.TryGetValue(typeof(TJob), out var r)) return (Runner<TJob>)r;
        var created = new Runner<TJob>();
        _runners[typeof(TJob)] = created;
        return created;
    }

    // Moves worker i+1's ticket; wakes it if it went to sleep.
    private void Signal(int i)
    {
        ref Slot slot = ref _slots[i];
        Interlocked.Increment(ref slot.Go);
        if (Volatile.Read(ref slot.Sleeping) != 0)
            lock (_gates[i]) Monitor.Pulse(_gates[i]);
    }

    // One poll's pause: the CPU's pause instruction for the first PauseMicroseconds of a wait, then a yield of
    // the core (sched_yield). On a quiet machine a decode step's waits end within the pause phase; on an
    // oversubscribed one (more runnable threads than cores) the thread being waited for may be descheduled,
    // and pausing would hold its core for the whole bound (measured under load: 409 µs per empty call with
    // pause alone against 70 µs blocking at once), while yielding hands the core over.
    // Default 0 (yield from the first poll) after measuring under load (load average 40): 20 µs of pausing
    // cost 170 µs per empty call against 37 µs for the old hand-off. LOOM_POOL_PAUSE_US sets it for a quiet
    // machine, where pausing is what llama.cpp does (not yet measured there).
    private static readonly int PauseMicroseconds = EnvironmentCount("LOOM_POOL_PAUSE_US", 0, 0);

    // The caller's wait for the last worker: poll, then block until the last decrement pulses.
    private void AwaitJoin()
    {
        long start = Stopwatch.GetTimestamp(), pauseEnd = start + _pauseTicks, deadline = start + _spinTicks;
        bool yielding = false;
        for (int n = 1; ; n++)
        {
            if (Volatile.Read(ref _join.Pending) == 0) return;
            if (yielding || (n & 63) == 0)
            {
                long now = Stopwatch.GetTimestamp();
                if (now >= deadline) break;
                yielding = now >= pauseEnd;
            }
            if (yielding) Thread.Yield();
            else Thread.SpinWait(1);
        }
        lock (_joinGate)
        {
            Interlocked.Exchange(ref _join.CallerSleeping, 1);
            while (Volatile.Read(ref _join.Pending) != 0) Monitor.Wait(_joinGate);
            Volatile.Write(ref _join.CallerSleeping, 0);
        }
    }

    // A worker's wait for its ticket to move past `seen`: poll, then block until Signal pulses.
    private long AwaitTicket(int i, long seen)
    {
        ref Slot slot = ref _slots[i];
        long start = Stopwatch.GetTimestamp(), pauseEnd = start + _pauseTicks, deadline = start + _spinTicks;
        bool yielding = false;
        for (int n = 1; ; n++)
        {
            long go = Volatile.Read(ref slot.Go);
            if (go != seen) return go;
            if (yielding || (n & 63) == 0)
            {
                long now = Stopwatch.GetTimestamp();
                if (now >= deadline) break;
                yielding = now >= pauseEnd;
            }
            if (yielding) Thread.Yield();
            else Thread.SpinWait(1);
        }
        lock (_gates[i])
        {
            Interlocked.Exchange(ref slot.Sleeping, 1);
            long go;
            while ((go = Volatile.Read(ref slot.Go)) == seen) Monitor.Wait(_gates[i]);
            Volatile.Write(ref slot.Sleeping, 0);
            return go;
        }
    }

    private void WorkerLoop(int index)
    {
        t_runningIn = this;
        long seen = 0;
        while (true)
        {
            seen = AwaitTicket(index - 1, seen);
            if (_disposed) return;
            try
            {
                _current!.Execute(index, _activeThreads);
            }
            catch (Exception e)
            {
                lock (_failureLock) _failure ??= ExceptionDispatchInfo.Capture(e);
            }
            if (Interlocked.Decrement(ref _join.Pending) == 0 && Volatile.Read(ref _join.CallerSleeping) != 0)
                lock (_joinGate) Monitor.Pulse(_joinGate);
        }
    }

    private static int DefaultThreadCount()
    {
        return EnvironmentCount("LOOM_THREADS", 1, Environment.ProcessorCount);
    }

    private static int DefaultSpin() => EnvironmentCount("LOOM_POOL_SPIN_US", 0, DefaultSpinMicroseconds);

    /// <summary>
    /// A whole number ≥ <paramref name="minimum"/> from the environment variable <paramref name="name"/>, else
    /// <paramref name="fallback"/>; a value that is set but not such a number is named on stderr (a tuning knob
    /// should not stop every command, nor be ignored without a word).
    /// </summary>
    internal static int EnvironmentCount(string name, int minimum, int fallback)
    {
        string? env = Environment.GetEnvironmentVariable(name);
        if (string.IsNullOrEmpty(env)) return fallback;
        if (int.TryParse(env, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int n) && n >= minimum) return n;
        Console.Error.WriteLine($"warning: {name}=\"{env}\" is not a whole number ≥ {minimum}; using {fallback}.");
        return fallback;
    }

    /// <summary>Stops the threads. The shared pool is never disposed.</summary>
    public void Dispose()
    {
        if (_disposed || ReferenceEquals(this, s_shared.IsValueCreated ? s_shared.Value : null)) return;
        lock (_runLock)
        {
            _disposed = true;
            for (int i = 0; i < _threads.Length; i++)
            {
                Interlocked.Increment(ref _slots[i].Go);
                lock (_gates[i]) Monitor.Pulse(_gates[i]);
            }
        }
        foreach (var t in _threads) t.Join();
    }
}

// One persistent pool of threads, sized to the cores, that runs every parallel loop in Loom.
// A job is a struct implementing IParallelJob; Run hands each thread its index and the thread
// count, and the job splits its own work with Partition, so the split is fixed and every run
// with the same thread count reduces in the same order (determinism, STYLE.md §6).
// Zero allocation per Run: the job struct is copied into a runner object cached per job type,
// and threads wake through ManualResetEventSlim (which spins briefly before it blocks, so
// back-to-back kernels do not pay a kernel-mode wake-up each).
using System.Runtime.ExceptionServices;

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

    private static readonly Lazy<WorkerPool> s_shared = new(() => new WorkerPool(DefaultThreadCount()));

    [ThreadStatic] private static WorkerPool? t_runningIn;

    private readonly Thread[] _threads;
    private readonly ManualResetEventSlim[] _start;
    private readonly ManualResetEventSlim _done = new(false, spinCount: 2000);
    private readonly Dictionary<Type, Runner> _runners = new();
    private readonly object _runLock = new();
    private Runner? _current;
    private int _activeThreads;
    private int _pending;
    private ExceptionDispatchInfo? _failure;
    private volatile bool _disposed;

    /// <summary>The process-wide pool: <c>LOOM_THREADS</c> threads if set, else one per core.</summary>
    public static WorkerPool Shared => s_shared.Value;

    /// <summary>Creates a pool of <paramref name="threadCount"/> threads (the caller counts as thread 0).</summary>
    public WorkerPool(int threadCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threadCount, 1);
        ThreadCount = threadCount;
        _threads = new Thread[threadCount - 1];
        _start = new ManualResetEventSlim[threadCount - 1];
        for (int i = 0; i < _threads.Length; i++)
        {
            _start[i] = new ManualResetEventSlim(false, spinCount: 2000);
            int index = i + 1;
            _threads[i] = new Thread(() => WorkerLoop(index)) { IsBackground = true, Name = $"loom-worker-{index}" };
            _threads[i].Start();
        }
    }

    /// <summary>Number of threads a job is split across, the caller included.</summary>
    public int ThreadCount { get; }

    /// <summary>
    /// Runs <paramref name="job"/> on every thread and returns when all are done. A Run from inside
    /// a job, or on a pool of one thread, runs inline as thread 0 of 1. At most
    /// <paramref name="maxThreads"/> threads take part (small jobs use fewer). The first
    /// exception a thread throws is rethrown here after all threads finish.
    /// </summary>
    public void Run<TJob>(in TJob job, int maxThreads = int.MaxValue) where TJob : struct, IParallelJob
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
            _done.Reset();
            Volatile.Write(ref _pending, threads - 1);
            for (int i = 0; i < threads - 1; i++) _start[i].Set();

            t_runningIn = this;
            try
            {
                runner.Execute(0, threads);
            }
            catch (Exception e)
            {
                lock (_done) _failure ??= ExceptionDispatchInfo.Capture(e);
            }
            finally
            {
                t_runningIn = null;
            }
            _done.Wait();
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

    private void WorkerLoop(int index)
    {
        t_runningIn = this;
        var start = _start[index - 1];
        while (true)
        {
            start.Wait();
            start.Reset();
            if (_disposed) return;
            try
            {
                _current!.Execute(index, _activeThreads);
            }
            catch (Exception e)
            {
                lock (_done) _failure ??= ExceptionDispatchInfo.Capture(e);
            }
            if (Interlocked.Decrement(ref _pending) == 0) _done.Set();
        }
    }

    private static int DefaultThreadCount()
    {
        string? env = Environment.GetEnvironmentVariable("LOOM_THREADS");
        if (env != null && int.TryParse(env, out int n) && n >= 1) return n;
        return Environment.ProcessorCount;
    }

    /// <summary>Stops the threads. The shared pool is never disposed.</summary>
    public void Dispose()
    {
        if (_disposed || ReferenceEquals(this, s_shared.IsValueCreated ? s_shared.Value : null)) return;
        _disposed = true;
        foreach (var s in _start) s.Set();
        foreach (var t in _threads) t.Join();
        foreach (var s in _start) s.Dispose();
        _done.Dispose();
    }
}

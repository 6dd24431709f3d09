// The worker pool's hand-off as it was before 2026-12-02, kept only as the anchor of `inference --filter
// dispatch`: workers woken through one ManualResetEventSlim each (spinCount 2000: SpinWait's polls with
// sched_yield/Sleep(0) between them, then a futex), the caller joined through another. Same job contract as
// Loom.Core.Threading.WorkerPool.Run (thread 0 is the caller); nothing else uses it.
using System.Runtime.ExceptionServices;
using Loom.Core.Threading;

namespace Loom.Bench.Anchors;

internal sealed class EventWorkerPool : IDisposable
{
    private abstract class Runner
    {
        public abstract void Execute(int threadIndex, int threadCount);
    }

    private sealed class Runner<TJob> : Runner where TJob : struct, IParallelJob
    {
        public TJob Job;
        public override void Execute(int threadIndex, int threadCount) => Job.Execute(threadIndex, threadCount);
    }

    private readonly Thread[] _threads;
    private readonly ManualResetEventSlim[] _start;
    private readonly ManualResetEventSlim _done = new(false, spinCount: 2000);
    private readonly Dictionary<Type, Runner> _runners = new();
    private Runner? _current;
    private int _activeThreads, _pending;
    private ExceptionDispatchInfo? _failure;
    private volatile bool _disposed;

    public EventWorkerPool(int threadCount)
    {
        ThreadCount = threadCount;
        _threads = new Thread[threadCount - 1];
        _start = new ManualResetEventSlim[threadCount - 1];
        for (int i = 0; i < _threads.Length; i++)
        {
            _start[i] = new ManualResetEventSlim(false, spinCount: 2000);
            int index = i + 1;
            _threads[i] = new Thread(() => WorkerLoop(index)) { IsBackground = true, Name = $"event-worker-{index}" };
            _threads[i].Start();
        }
    }

    public int ThreadCount { get; }

    public void Run<TJob>(in TJob job) where TJob : struct, IParallelJob
    {
        int threads = ThreadCount;
        if (!_runners.TryGetValue(typeof(TJob), out var r)) _runners[typeof(TJob)] = r = new Runner<TJob>();
        var runner = (Runner<TJob>)r;
        runner.Job = job;
        _current = runner;
        _activeThreads = threads;
        _failure = null;
        _done.Reset();
        Volatile.Write(ref _pending, threads - 1);
        for (int i = 0; i < threads - 1; i++) _start[i].Set();
        runner.Execute(0, threads);
        _done.Wait();
        _failure?.Throw();
    }

    private void WorkerLoop(int index)
    {
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

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var s in _start) s.Set();
        foreach (var t in _threads) t.Join();
        foreach (var s in _start) s.Dispose();
        _done.Dispose();
    }
}

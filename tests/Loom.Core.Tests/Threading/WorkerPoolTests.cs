using Loom.Core.Threading;

namespace Loom.Core.Tests.Threading;

public class WorkerPoolTests
{
    private unsafe struct MarkJob : IParallelJob
    {
        public int* Hits;
        public int* Seen;
        public int Total;
        public readonly void Execute(int threadIndex, int threadCount)
        {
            Interlocked.Increment(ref Seen[threadIndex]);
            var (s, e) = WorkerPool.Partition(Total, threadIndex, threadCount);
            for (int i = s; i < e; i++) Interlocked.Increment(ref Hits[i]);
        }
    }

    private struct ThrowJob : IParallelJob
    {
        public readonly void Execute(int threadIndex, int threadCount)
        {
            if (threadIndex == threadCount - 1) throw new InvalidOperationException($"boom from {threadIndex}");
        }
    }

    private struct NestedJob : IParallelJob
    {
        public WorkerPool Pool;
        public int[] Counts;
        public readonly void Execute(int threadIndex, int threadCount)
        {
            var inner = new CountJob { Counts = Counts, Slot = threadIndex };
            Pool.Run(inner); // runs inline: no deadlock
        }
    }

    private struct CountJob : IParallelJob
    {
        public int[] Counts;
        public int Slot;
        public readonly void Execute(int threadIndex, int threadCount) => Interlocked.Add(ref Counts[Slot], threadCount);
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(2, 1)]
    [InlineData(3, 10)]
    [InlineData(4, 1001)]
    public unsafe void EveryItemOnceEveryThreadOnce(int threads, int total)
    {
        using var pool = new WorkerPool(threads);
        var hits = new int[total + 1];
        var seen = new int[threads];
        for (int rep = 0; rep < 50; rep++)
        {
            fixed (int* h = hits, s = seen)
                pool.Run(new MarkJob { Hits = h, Seen = s, Total = total });
        }
        Assert.All(hits.Take(total), v => Assert.Equal(50, v));
        Assert.All(seen, v => Assert.Equal(50, v));
    }

    [Fact]
    public void PartitionsAreContiguousAndAligned()
    {
        for (int total = 0; total < 100; total++)
            for (int n = 1; n <= 5; n++)
            {
                int next = 0;
                for (int t = 0; t < n; t++)
                {
                    var (s, e) = WorkerPool.PartitionAligned(total, 16, t, n);
                    Assert.Equal(next, s);
                    Assert.True(s % 16 == 0 || s == total);
                    next = e;
                }
                Assert.Equal(total, next);
            }
    }

    [Fact]
    public void ExceptionsReachTheCallerAndThePoolKeepsWorking()
    {
        using var pool = new WorkerPool(3);
        var ex = Assert.Throws<InvalidOperationException>(() => pool.Run(new ThrowJob()));
        Assert.Contains("boom from 2", ex.Message);
        var counts = new int[1];
        pool.Run(new CountJob { Counts = counts, Slot = 0 });
        Assert.Equal(9, counts[0]);
    }

    [Fact]
    public void NestedRunsExecuteInline()
    {
        using var pool = new WorkerPool(2);
        var counts = new int[2];
        pool.Run(new NestedJob { Pool = pool, Counts = counts });
        Assert.Equal(new[] { 1, 1 }, counts);
    }

    [Fact]
    public async Task ConcurrentCallersAreSerialised()
    {
        using var pool = new WorkerPool(2);
        var counts = new int[1];
        var tasks = Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            for (int i = 0; i < 200; i++) pool.Run(new CountJob { Counts = counts, Slot = 0 });
        })).ToArray();
        await Task.WhenAll(tasks);
        Assert.Equal(4 * 200 * 2 * 2, counts[0]);
    }

    // The hand-off polls, then blocks (WorkerPool's header). With no polling (0 µs) every hand-off takes the
    // blocking path, with a long bound the polling one, and with a short bound plus pauses longer than it
    // both, interleaved: in each, every item runs exactly once per Run and no wake-up is lost (a lost one
    // would hang the Run, so the runs go on a task with a deadline).
    [Theory]
    [InlineData(2, 0, 0)]
    [InlineData(3, 0, 0)]
    [InlineData(2, 2000, 0)]
    [InlineData(3, 2000, 0)]
    [InlineData(2, 20, 3)]
    [InlineData(3, 20, 3)]
    public async Task SpinThenBlockRunsEveryItemOnceAndLosesNoWakeUp(int threads, int spinMicroseconds, int pauseEvery)
    {
        const int runs = 2000, total = 37;
        var hits = new int[total];
        var seen = new int[threads];
        var work = Task.Run(() =>
        {
            using var pool = new WorkerPool(threads, spinMicroseconds);
            Assert.Equal(spinMicroseconds, pool.SpinMicroseconds);
            for (int rep = 0; rep < runs; rep++)
            {
                RunMarks(pool, hits, seen, total);
                if (pauseEvery > 0 && rep % pauseEvery == 0) Thread.Sleep(1);   // longer than the bound: the workers block
            }
        });
        Assert.True(await Task.WhenAny(work, Task.Delay(TimeSpan.FromSeconds(120))) == work, "a Run did not return: a wake-up was lost");
        await work;
        Assert.All(hits, v => Assert.Equal(runs, v));
        Assert.All(seen, v => Assert.Equal(runs, v));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2000)]
    public void ExceptionsReachTheCallerOnEitherPath(int spinMicroseconds)
    {
        using var pool = new WorkerPool(3, spinMicroseconds);
        for (int i = 0; i < 20; i++)
        {
            var ex = Assert.Throws<InvalidOperationException>(() => pool.Run(new ThrowJob()));
            Assert.Contains("boom from 2", ex.Message);
        }
        var counts = new int[1];
        pool.Run(new CountJob { Counts = counts, Slot = 0 });
        Assert.Equal(9, counts[0]);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2000)]
    public async Task DisposeStopsPollingAndBlockedWorkers(int spinMicroseconds)
    {
        var done = Task.Run(() =>
        {
            var pool = new WorkerPool(4, spinMicroseconds);
            var counts = new int[1];
            pool.Run(new CountJob { Counts = counts, Slot = 0 }, maxThreads: 2);   // workers 2 and 3 never ran
            Thread.Sleep(5);
            pool.Dispose();
            pool.Dispose();   // twice is fine
            Assert.Throws<ObjectDisposedException>(() => pool.Run(new CountJob { Counts = counts, Slot = 0 }));
            return counts[0];
        });
        Assert.True(await Task.WhenAny(done, Task.Delay(TimeSpan.FromSeconds(60))) == done, "Dispose did not return: a worker was not woken");
        Assert.Equal(4, await done);
    }

    private static unsafe void RunMarks(WorkerPool pool, int[] hits, int[] seen, int total)
    {
        fixed (int* h = hits, s = seen)
            pool.Run(new MarkJob { Hits = h, Seen = s, Total = total });
    }

    [Fact]
    public void SpinBoundIsChecked()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new WorkerPool(2, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new WorkerPool(0, 10));
    }

    [Fact]
    public void MaxThreadsLimitsTheSplit()
    {
        using var pool = new WorkerPool(3);
        var counts = new int[1];
        pool.Run(new CountJob { Counts = counts, Slot = 0 }, maxThreads: 2);
        Assert.Equal(4, counts[0]);
    }
}

using Loom.Core.Threading;

namespace Loom.Core.Tests.Threading;

// Ranges.RunBalanced: every item exactly once, in granule-aligned ranges, whether threads steal or not — also when
// one thread is held up so the others must take its share, and when called from inside another job. Not timed.
public class RangesBalancedTests
{
    private unsafe struct MarkKernel : IRangeKernel
    {
        public int* Hits;
        public int* Misaligned;
        public int Granule, Count;

        public readonly void Run(int start, int end)
        {
            if (start % Granule != 0 || (end % Granule != 0 && end != Count)) Interlocked.Increment(ref *Misaligned);
            for (int i = start; i < end; i++) Interlocked.Increment(ref Hits[i]);
        }
    }

    [Theory]
    [InlineData(2, 768, 16, 220)]
    [InlineData(2, 50257, 16, 220)]
    [InlineData(2, 50257, 1, 768)]
    [InlineData(3, 1001, 16, 1000)]
    [InlineData(4, 37, 1, 100000)]
    [InlineData(2, 5, 16, 100000)]
    public unsafe void EveryItemOnceInAlignedRanges(int threads, int count, int granule, long cost)
    {
        using var pool = new WorkerPool(threads);
        foreach (bool balanced in new[] { true, false })
        {
            pool.Balanced = balanced;
            var hits = new int[count];
            int misaligned = 0;
            for (int rep = 0; rep < 20; rep++)
                fixed (int* h = hits)
                    Ranges.RunBalanced(pool, count, cost, new MarkKernel { Hits = h, Misaligned = &misaligned, Granule = granule, Count = count }, granule);
            Assert.All(hits, v => Assert.Equal(20, v));
            Assert.Equal(0, misaligned);
        }
    }

    // The caller holds its first range until another thread has taken part of the caller's share (which it can only
    // do by stealing from its back) — bounded at 10 s, so a pool that does not steal fails instead of hanging.
    [Fact]
    public unsafe void AHeldUpThreadsShareIsTakenByTheOthers()
    {
        using var pool = new WorkerPool(2) { Balanced = true };
        const int count = 4096;
        var hits = new int[count];
        int waited = 0, stolen = 0;
        fixed (int* h = hits)
            Ranges.RunBalanced(pool, count, 1 << 12, new OwnerKernel { Hits = h, Waited = &waited, Stolen = &stolen, CallerId = Environment.CurrentManagedThreadId, Count = count }, 16);
        Assert.All(hits, v => Assert.Equal(1, v));
        Assert.True(stolen > 0, "no item of the caller's share was made by the worker");
    }

    private unsafe struct OwnerKernel : IRangeKernel
    {
        public int* Hits, Waited, Stolen;
        public int CallerId, Count;

        public readonly void Run(int start, int end)
        {
            int me = Environment.CurrentManagedThreadId;
            if (me != CallerId && start < Count / 2) Interlocked.Increment(ref *Stolen);
            if (me == CallerId && Interlocked.Exchange(ref *Waited, 1) == 0)
            {
                var clock = System.Diagnostics.Stopwatch.StartNew();
                while (Volatile.Read(ref *Stolen) == 0 && clock.ElapsedMilliseconds < 10_000) Thread.Sleep(1);
            }
            for (int i = start; i < end; i++) Interlocked.Increment(ref Hits[i]);
        }
    }

    private unsafe struct OuterJob : IParallelJob
    {
        public WorkerPool Pool;
        public int* Hits;
        public int Count;

        public readonly void Execute(int threadIndex, int threadCount)
        {
            int misaligned = 0;
            // Inside a job the inner call runs inline on this thread and must not touch the outer job's shares.
            Ranges.RunBalanced(Pool, Count, 1 << 20, new MarkKernel { Hits = Hits + threadIndex * Count, Misaligned = &misaligned, Granule = 1, Count = Count });
        }
    }

    [Fact]
    public unsafe void NestedBalancedRunsExecuteInline()
    {
        using var pool = new WorkerPool(2) { Balanced = true };
        const int count = 300;
        var hits = new int[2 * count];
        fixed (int* h = hits)
            pool.Run(new OuterJob { Pool = pool, Hits = h, Count = count });
        Assert.All(hits, v => Assert.Equal(1, v));
    }
}

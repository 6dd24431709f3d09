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

    // The caller's first range sleeps: the worker finishes its own share and then takes the rest of the caller's
    // from the back, so the call takes about one sleep, not the caller's whole share of sleeps.
    [Fact]
    public unsafe void AHeldUpThreadsShareIsTakenByTheOthers()
    {
        using var pool = new WorkerPool(2);
        const int count = 4096;
        var hits = new int[count];
        var owner = new int[count];
        fixed (int* h = hits, o = owner)
        {
            var kernel = new OwnerKernel { Hits = h, Owner = o };
            Ranges.RunBalanced(pool, count, 1 << 12, kernel, 16);
        }
        Assert.All(hits, v => Assert.Equal(1, v));
        // Items of the caller's share [0, 2048) were made by the worker too (it stole while the caller slept).
        Assert.Contains(owner.Take(count / 2), t => t != OwnerKernel.CallerThreadId);
    }

    private unsafe struct OwnerKernel : IRangeKernel
    {
        [ThreadStatic] private static int t_id;
        private static int s_next;
        public static int CallerThreadId = -1;
        public int* Hits;
        public int* Owner;

        public readonly void Run(int start, int end)
        {
            if (t_id == 0) t_id = Interlocked.Increment(ref s_next);
            if (start == 0)
            {
                CallerThreadId = t_id;
                Thread.Sleep(100);   // the first chunk of the caller's share (thread 0 starts at item 0)
            }
            for (int i = start; i < end; i++)
            {
                Interlocked.Increment(ref Hits[i]);
                Owner[i] = t_id;
            }
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
        using var pool = new WorkerPool(2);
        const int count = 300;
        var hits = new int[2 * count];
        fixed (int* h = hits)
            pool.Run(new OuterJob { Pool = pool, Hits = h, Count = count });
        Assert.All(hits, v => Assert.Equal(1, v));
    }
}

// Most kernels are "do the same thing to each row" (or column). A kernel struct implements
// IRangeKernel; Ranges.Run splits [0, count) into fixed contiguous shares on the pool. The
// struct holds raw pointers, so no span crosses a thread and nothing is allocated.
namespace Loom.Core.Threading;

/// <summary>Work over a contiguous range of items (rows, columns, elements).</summary>
public interface IRangeKernel
{
    /// <summary>Processes items [<paramref name="start"/>, <paramref name="end"/>).</summary>
    void Run(int start, int end);
}

/// <summary>Runs <see cref="IRangeKernel"/>s on a pool.</summary>
public static class Ranges
{
    private struct Job<TKernel> : IParallelJob where TKernel : struct, IRangeKernel
    {
        public TKernel Kernel;
        public int Count, Granule;

        public readonly void Execute(int threadIndex, int threadCount)
        {
            var (s, e) = WorkerPool.PartitionAligned(Count, Granule, threadIndex, threadCount);
            if (s < e)
            {
                TKernel k = Kernel;
                k.Run(s, e);
            }
        }
    }

    /// <summary>
    /// Runs <paramref name="kernel"/> over [0, <paramref name="count"/>); <paramref name="costPerItem"/>
    /// (≈ floats touched per item) decides how many threads are worth waking.
    /// </summary>
    public static void Run<TKernel>(WorkerPool? pool, int count, long costPerItem, in TKernel kernel, int granule = 1)
        where TKernel : struct, IRangeKernel
    {
        if (count <= 0) return;
        pool ??= WorkerPool.Shared;
        int threads = pool.ThreadsFor(count * Math.Max(1, costPerItem), 1 << 14);
        if (threads == 1)
        {
            TKernel k = kernel;
            k.Run(0, count);
            return;
        }
        var job = new Job<TKernel> { Kernel = kernel, Count = count, Granule = Math.Max(1, granule) };
        pool.Run(job, threads);
    }
}

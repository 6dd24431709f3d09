// Most kernels are "do the same thing to each row" (or column). A kernel struct implements
// IRangeKernel; Ranges.Run splits [0, count) into fixed contiguous shares on the pool. The
// struct holds raw pointers, so no span crosses a thread and nothing is allocated.
// Ranges.RunBalanced is for kernels whose every item is computed alone (a matrix-vector product's rows): each
// thread starts on the same contiguous share but takes it in chunks, and a thread that finishes early takes
// chunks from the back of the others' shares, as ggml-cpu's mul_mat hands out chunks through an atomic counter.
// A decode step makes ~60 such calls of 20-150 µs; with fixed shares each one lasts as long as its slowest thread
// (the worker starts a few µs after the caller, and on a shared machine may be descheduled for longer). Which
// thread computes an item never changes its value, so results stay bit-identical. Stealing happens only when the
// pool's Balanced is on (off by default: slower in loaded A/B runs; WorkerPool.Balanced has the figures).
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

    private struct BalancedJob<TKernel> : IParallelJob where TKernel : struct, IRangeKernel
    {
        public TKernel Kernel;
        public WorkerPool Pool;
        public int Count, Granule, Chunk;

        public readonly void Execute(int threadIndex, int threadCount)
        {
            TKernel k = Kernel;
            if (threadCount == 1)
            {
                // Run inline (from inside another job): the pool's shares belong to the outer job.
                k.Run(0, Count);
                return;
            }
            int s, e;
            while (Pool.ClaimFront(threadIndex, Chunk, out s, out e)) k.Run(s * Granule, Math.Min(e * Granule, Count));
            for (int i = 1; i < threadCount; i++)
            {
                int victim = (threadIndex + i) % threadCount;
                while (Pool.ClaimBack(victim, Chunk, out s, out e)) k.Run(s * Granule, Math.Min(e * Granule, Count));
            }
        }
    }

    // Work per chunk of a balanced run, in costPerItem's units (≈ floats touched): 32 KB, ~2 µs of a decode matvec
    // (32 Q8_0 rows of 768). The last chunk bounds how unequal the threads finish, so chunks stay small; the owner's
    // claim is an uncontended compare-exchange on its own line (~20-50 cycles per chunk, under 1% of one).
    private const long ChunkCost = 1 << 13;

    /// <summary>
    /// Like <see cref="Run{TKernel}"/>, for a kernel whose result for each item does not depend on which range it
    /// was computed in: the threads start on the same shares, take them <paramref name="granule"/>-aligned chunks
    /// at a time (about 32 KB of work, at least four per thread) and take what is left of the others' when done.
    /// </summary>
    public static void RunBalanced<TKernel>(WorkerPool? pool, int count, long costPerItem, in TKernel kernel, int granule = 1)
        where TKernel : struct, IRangeKernel
    {
        if (count <= 0) return;
        pool ??= WorkerPool.Shared;
        costPerItem = Math.Max(1, costPerItem);
        int threads = pool.ThreadsFor(count * costPerItem, 1 << 14);
        if (threads == 1 || !pool.Balanced)
        {
            Run(pool, count, costPerItem, kernel, granule);
            return;
        }
        granule = Math.Max(1, granule);
        int units = (count + granule - 1) / granule;
        long perChunk = Math.Max(1, ChunkCost / (costPerItem * granule));
        int chunk = (int)Math.Clamp(perChunk, 1, Math.Max(1, units / (threads * 4)));
        var job = new BalancedJob<TKernel> { Kernel = kernel, Pool = pool, Count = count, Granule = granule, Chunk = chunk };
        pool.Run(job, threads, units);
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

// Matrix-vector products for decoding one token at a time (M = 1), where a GEMM would spend more
// time packing the weight than multiplying it. Both read the weight exactly once and are
// memory-bound; rows (or column ranges) are split across the pool.
//   RowsDot:     y[n] = W[n, :] · x      W stored (N, K) — e.g. logits = wte · h (tied head)
//   ColumnsAxpy: y    = xᵀ · W (+ b)     W stored (K, N) — e.g. GPT-2's Conv1D with one row
using System.Numerics;
using System.Runtime.Intrinsics;
using Loom.Core.Threading;

namespace Loom.Core.Kernels;

/// <summary>y = W·x and y = xᵀ·W for one vector.</summary>
public static unsafe class MatVec
{
    /// <summary>y[n] = Σ_k W[n, k]·x[k] for W of shape (y.Length, x.Length).</summary>
    public static void RowsDot(ReadOnlySpan<float> weight, ReadOnlySpan<float> x, Span<float> y, WorkerPool? pool = null)
    {
        if (weight.Length != (long)x.Length * y.Length)
            throw new ArgumentException($"weight has {weight.Length} elements; a ({y.Length}, {x.Length}) matrix needs {(long)x.Length * y.Length}.");
        fixed (float* pw = weight, px = x, py = y)
            Ranges.RunBalanced(pool, y.Length, x.Length, new RowsKernel { W = pw, X = px, Y = py, K = x.Length });
    }

    /// <summary>y[n] = Σ_k x[k]·W[k, n] (+ bias[n]) for W of shape (x.Length, y.Length).</summary>
    public static void ColumnsAxpy(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> y, WorkerPool? pool = null)
    {
        if (weight.Length != (long)x.Length * y.Length)
            throw new ArgumentException($"weight has {weight.Length} elements; a ({x.Length}, {y.Length}) matrix needs {(long)x.Length * y.Length}.");
        if (!bias.IsEmpty && bias.Length != y.Length) throw new ArgumentException($"bias has {bias.Length} elements; y has {y.Length}.");
        pool ??= WorkerPool.Shared;
        int k = x.Length, n = y.Length;
        int threads = pool.ThreadsFor((long)k * n, 1 << 16);
        // Each thread streams a contiguous block of rows into its own partial y (a column split made
        // both threads stride through every row and ran slower on 2 threads than on 1); the caller
        // then adds the partials in thread order, so the result depends only on the thread count.
        int stride = (n + 15) & ~15;
        float* partials = threads == 1 ? null : CallerScratch.Floats((long)stride * threads);
        fixed (float* pw = weight, px = x, pb = bias, py = y)
        {
            var job = new RowBlockJob { W = pw, X = px, Y = py, Partials = partials, Stride = stride, K = k, N = n };
            if (threads == 1) job.Execute(0, 1);
            else pool.Run(job, threads);
            if (threads > 1)
            {
                new Span<float>(py, n).Clear();
                for (int t = 0; t < threads; t++) VectorOps.AddInPlace(py, partials + (long)stride * t, n);
            }
            if (!bias.IsEmpty) VectorOps.AddInPlace(py, pb, n);
        }
    }

    private struct RowsKernel : IRangeKernel
    {
        public float* W, X, Y;
        public int K;
        public readonly void Run(int start, int end)
        {
            for (int n = start; n < end; n++) Y[n] = VectorOps.Dot(W + (long)n * K, X, K);
        }
    }

    // Thread t accumulates rows [k0, k1) of xᵀ·W into its own vector (y itself when alone).
    private struct RowBlockJob : IParallelJob
    {
        public float* W, X, Y, Partials;
        public int Stride, K, N;

        public readonly void Execute(int threadIndex, int threadCount)
        {
            var (k0, k1) = WorkerPool.Partition(K, threadIndex, threadCount);
            float* y = threadCount == 1 ? Y : Partials + (long)Stride * threadIndex;
            new Span<float>(y, N).Clear();
            int w = Vector<float>.Count;
            for (int k = k0; k < k1; k++)
            {
                float* row = W + (long)k * N;
                var xk = new Vector<float>(X[k]);
                int j = 0;
                if (Vector512.IsHardwareAccelerated)
                {
                    // Same per-element arithmetic (y + x·w, unfused) as the loops below.
                    var zk = Vector512.Create(X[k]);
                    for (; j <= N - 16; j += 16)
                        (Vector512.Load(y + j) + zk * Vector512.Load(row + j)).Store(y + j);
                }
                for (; j <= N - w; j += w) VectorOps.Store(y + j, VectorOps.Load(y + j) + xk * VectorOps.Load(row + j));
                for (; j < N; j++) y[j] += X[k] * row[j];
            }
        }
    }
}

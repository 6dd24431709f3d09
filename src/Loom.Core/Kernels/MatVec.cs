// Matrix-vector products for decoding one token at a time (M = 1), where a GEMM would spend more
// time packing the weight than multiplying it. Both read the weight exactly once and are
// memory-bound; rows (or column ranges) are split across the pool.
//   RowsDot:     y[n] = W[n, :] · x      W stored (N, K) — e.g. logits = wte · h (tied head)
//   ColumnsAxpy: y    = xᵀ · W (+ b)     W stored (K, N) — e.g. GPT-2's Conv1D with one row
using System.Numerics;
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
            Ranges.Run(pool, y.Length, x.Length, new RowsKernel { W = pw, X = px, Y = py, K = x.Length });
    }

    /// <summary>y[n] = Σ_k x[k]·W[k, n] (+ bias[n]) for W of shape (x.Length, y.Length).</summary>
    public static void ColumnsAxpy(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> y, WorkerPool? pool = null)
    {
        if (weight.Length != (long)x.Length * y.Length)
            throw new ArgumentException($"weight has {weight.Length} elements; a ({x.Length}, {y.Length}) matrix needs {(long)x.Length * y.Length}.");
        if (!bias.IsEmpty && bias.Length != y.Length) throw new ArgumentException($"bias has {bias.Length} elements; y has {y.Length}.");
        fixed (float* pw = weight, px = x, pb = bias, py = y)
            Ranges.Run(pool, y.Length, x.Length, new ColumnsKernel { W = pw, X = px, B = bias.IsEmpty ? null : pb, Y = py, K = x.Length, N = y.Length }, granule: 64);
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

    // Each thread owns columns [start, end): it walks the K rows and accumulates x[k]·W[k, start..end).
    private struct ColumnsKernel : IRangeKernel
    {
        public float* W, X, B, Y;
        public int K, N;
        public readonly void Run(int start, int end)
        {
            int len = end - start, w = Vector<float>.Count;
            float* y = Y + start;
            if (B != null) new ReadOnlySpan<float>(B + start, len).CopyTo(new Span<float>(y, len));
            else new Span<float>(y, len).Clear();
            for (int k = 0; k < K; k++)
            {
                float* row = W + (long)k * N + start;
                var xk = new Vector<float>(X[k]);
                int j = 0;
                for (; j <= len - w; j += w) VectorOps.Store(y + j, VectorOps.Load(y + j) + xk * VectorOps.Load(row + j));
                for (; j < len; j++) y[j] += X[k] * row[j];
            }
        }
    }
}

// Bias add over rows and its backward (column sums). The forward is also fused into the GEMM
// (Linear.Forward); this standalone form serves layers whose bias is not behind a GEMM.
using System.Numerics;
using System.Runtime.Intrinsics;
using Loom.Core.Threading;

namespace Loom.Core.Kernels;

/// <summary>Row-broadcast bias: y[r, j] += b[j]; db[j] += Σ_r dy[r, j].</summary>
public static unsafe class Bias
{
    /// <summary>y[r, j] = x[r, j] + bias[j]. In place is allowed.</summary>
    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> bias, Span<float> y, WorkerPool? pool = null)
    {
        int cols = bias.Length;
        int rows = Softmax.CheckRows(x.Length, cols, "x");
        Elementwise.CheckLengths(x.Length, y.Length, "x", "y");
        Elementwise.CheckOverlap(x, y);
        fixed (float* px = x, pb = bias, py = y)
            Ranges.Run(pool, rows, cols * 2L, new AddKernel { X = px, B = pb, Y = py, Cols = cols });
    }

    /// <summary>dbias[j] += Σ_r dy[r, j].</summary>
    public static void Backward(ReadOnlySpan<float> dy, Span<float> dbias, WorkerPool? pool = null)
    {
        int cols = dbias.Length;
        int rows = Softmax.CheckRows(dy.Length, cols, "dy");
        fixed (float* pdy = dy, pdb = dbias)
            Ranges.Run(pool, cols, rows, new SumKernel { DY = pdy, DB = pdb, Rows = rows, Cols = cols }, granule: 16);
    }

    private struct AddKernel : IRangeKernel
    {
        public float* X, B, Y;
        public int Cols;
        public readonly void Run(int start, int end)
        {
            int w = Vector<float>.Count;
            for (int r = start; r < end; r++)
            {
                float* x = X + (long)r * Cols, y = Y + (long)r * Cols;
                int j = 0;
                if (Vector512.IsHardwareAccelerated)
                    for (; j <= Cols - 16; j += 16) (Vector512.Load(x + j) + Vector512.Load(B + j)).Store(y + j);
                for (; j <= Cols - w; j += w) VectorOps.Store(y + j, VectorOps.Load(x + j) + VectorOps.Load(B + j));
                for (; j < Cols; j++) y[j] = x[j] + B[j];
            }
        }
    }

    private struct SumKernel : IRangeKernel
    {
        public float* DY, DB;
        public int Rows, Cols;
        public readonly void Run(int start, int end)
        {
            for (int r = 0; r < Rows; r++) VectorOps.AddInPlace(DB + start, DY + (long)r * Cols + start, end - start);
        }
    }
}

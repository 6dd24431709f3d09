// A fully connected layer in the three GEMM layouts training needs (PyTorch's nn.Linear
// convention: weight is (out, in)):
//   forward          y[m×n]  = x[m×k] · W[n×k]ᵀ + b      (NT, bias fused into the GEMM)
//   input gradient   dx[m×k] = dy[m×n] · W[n×k]          (NN)
//   weight gradient  dW[n×k] += dy[m×n]ᵀ · x[m×k]        (TN)
//   bias gradient    db[n]  += Σ_rows dy
using Loom.Core.Threading;

namespace Loom.Core.Kernels;

/// <summary>y = x·Wᵀ + b and its backward, on row-major spans.</summary>
public static unsafe class Linear
{
    /// <summary>y[m×n] = x[m×k]·weight[n×k]ᵀ (+ bias[n] when not empty); added to y when <paramref name="accumulate"/> (a residual add).</summary>
    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> y,
        int m, int k, int n, WorkerPool? pool = null, bool accumulate = false)
    {
        CheckSize("x", x.Length, m, k);
        CheckSize("weight", weight.Length, n, k);
        CheckSize("y", y.Length, m, n);
        if (!bias.IsEmpty && bias.Length != n)
            throw new ArgumentException($"bias has {bias.Length} elements but the layer has {n} outputs.");
        fixed (float* px = x, pw = weight, pb = bias, py = y)
            Gemm.Run(Transpose.No, Transpose.Yes, m, n, k, 1f, px, k, pw, k, accumulate ? 1f : 0f, py, n, bias.IsEmpty ? null : pb, pool ?? WorkerPool.Shared);
    }

    /// <summary>
    /// Backward of <see cref="Forward"/>: dx = dy·W (added to dx when <paramref name="accumulateInput"/>),
    /// dweight += dyᵀ·x (dweight = dyᵀ·x, the old one not read, when <paramref name="accumulateWeight"/> is false),
    /// dbias += Σ dy (skipped when dbias is empty). dx may be empty to skip it (first layer).
    /// </summary>
    public static void Backward(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, ReadOnlySpan<float> weight,
        Span<float> dx, Span<float> dweight, Span<float> dbias, int m, int k, int n, bool accumulateInput = false, WorkerPool? pool = null,
        bool accumulateWeight = true)
    {
        CheckSize("dy", dy.Length, m, n);
        CheckSize("x", x.Length, m, k);
        CheckSize("weight", weight.Length, n, k);
        CheckSize("dweight", dweight.Length, n, k);
        if (!dx.IsEmpty) CheckSize("dx", dx.Length, m, k);
        if (!dbias.IsEmpty && dbias.Length != n)
            throw new ArgumentException($"dbias has {dbias.Length} elements but the layer has {n} outputs.");
        pool ??= WorkerPool.Shared;
        fixed (float* pdy = dy, px = x, pw = weight, pdx = dx, pdw = dweight)
        {
            if (!dx.IsEmpty)
                Gemm.Run(Transpose.No, Transpose.No, m, k, n, 1f, pdy, n, pw, k, accumulateInput ? 1f : 0f, pdx, k, null, pool);
            Gemm.Run(Transpose.Yes, Transpose.No, n, k, m, 1f, pdy, n, px, k, accumulateWeight ? 1f : 0f, pdw, k, null, pool);
        }
        if (!dbias.IsEmpty) Bias.Backward(dy, dbias, pool);
    }

    private static void CheckSize(string name, int length, int rows, int cols)
    {
        if (length != (long)rows * cols)
            throw new ArgumentException($"{name} has {length} elements but must be {rows}×{cols} = {(long)rows * cols}.");
    }
}

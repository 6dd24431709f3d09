// GPT-2's "Conv1D" (Radford et al. 2019; HF transformers pytorch_utils.Conv1D): a linear layer whose
// weight is stored (in, out), y = x·W + b. Keeping that layout lets a GPT-2 checkpoint load without
// transposing. The three GEMMs:  forward y = x·W (NN);  dx = dy·Wᵀ (NT);  dW += xᵀ·dy (TN).
using Loom.Core.Threading;

namespace Loom.Core.Kernels;

/// <summary>y = x·W + b with W stored (in, out), and its backward.</summary>
public static unsafe class Conv1D
{
    /// <summary>y[m×out] = x[m×in]·W[in×out] (+ b[out] when not empty); added to y when <paramref name="accumulate"/> (a residual add).</summary>
    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> y,
        int m, int inFeatures, int outFeatures, bool accumulate = false, WorkerPool? pool = null)
    {
        Check("x", x.Length, m, inFeatures);
        Check("weight", weight.Length, inFeatures, outFeatures);
        Check("y", y.Length, m, outFeatures);
        if (!bias.IsEmpty && bias.Length != outFeatures) throw new ArgumentException($"bias has {bias.Length} elements but the layer has {outFeatures} outputs.");
        fixed (float* px = x, pw = weight, pb = bias, py = y)
            Gemm.Run(Transpose.No, Transpose.No, m, outFeatures, inFeatures, 1f, px, inFeatures, pw, outFeatures, accumulate ? 1f : 0f, py, outFeatures,
                bias.IsEmpty ? null : pb, pool ?? WorkerPool.Shared);
    }

    /// <summary>
    /// dx = dy·Wᵀ (added to dx when <paramref name="accumulateInput"/>; skipped when dx is empty),
    /// dW += xᵀ·dy (dW = xᵀ·dy, the old dW not read, when <paramref name="accumulateWeight"/> is false),
    /// db += Σ_rows dy (skipped when db is empty).
    /// </summary>
    public static void Backward(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, ReadOnlySpan<float> weight,
        Span<float> dx, Span<float> dweight, Span<float> dbias, int m, int inFeatures, int outFeatures, bool accumulateInput = false, WorkerPool? pool = null,
        bool accumulateWeight = true)
    {
        Check("dy", dy.Length, m, outFeatures);
        Check("x", x.Length, m, inFeatures);
        Check("weight", weight.Length, inFeatures, outFeatures);
        Check("dweight", dweight.Length, inFeatures, outFeatures);
        if (!dx.IsEmpty) Check("dx", dx.Length, m, inFeatures);
        pool ??= WorkerPool.Shared;
        fixed (float* pdy = dy, px = x, pw = weight, pdx = dx, pdw = dweight)
        {
            if (!dx.IsEmpty)
                Gemm.Run(Transpose.No, Transpose.Yes, m, inFeatures, outFeatures, 1f, pdy, outFeatures, pw, outFeatures,
                    accumulateInput ? 1f : 0f, pdx, inFeatures, null, pool);
            Gemm.Run(Transpose.Yes, Transpose.No, inFeatures, outFeatures, m, 1f, px, inFeatures, pdy, outFeatures, accumulateWeight ? 1f : 0f, pdw, outFeatures, null, pool);
        }
        if (!dbias.IsEmpty) Bias.Backward(dy, dbias, pool);
    }

    private static void Check(string name, int length, int rows, int cols)
    {
        if (length != (long)rows * cols)
            throw new ArgumentException($"{name} has {length} elements but must be {rows}×{cols} = {(long)rows * cols}.");
    }
}

// The attention core of T5 (transformers' T5Attention.forward) on head-major tensors:
//   S = Q·Kᵀ (no 1/√d_kv: T5 folds it into the initialisation of q, Mesh-TensorFlow's convention)
//   S += position bias (NH, Tq, Tk), shared by the batch (self-attention only; cross-attention has none)
//   P = softmax(S) under the mask (causal for decoder self-attention, key padding for the encoder and
//       for cross-attention: HF adds finfo.min, which gives the same zeros);  Y = P·V
// Backward, in reverse: dP = dY·Vᵀ; dV = Pᵀ·dY; dS = P ⊙ (dP − rowsum(dP ⊙ P)); dBias += Σ_batch dS;
// dQ = dS·K; dK = dSᵀ·Q. Queries and keys may differ in length (cross-attention: Tq = target, Tk = source).
using System.Numerics.Tensors;
using Loom.Core.Kernels;
using Loom.Core.Threading;

namespace Loom.Models.T5;

internal static class T5AttentionCore
{
    /// <summary>q (B·NH, Tq, dk), k and v (B·NH, Tk, dk); probabilities (B·NH, Tq, Tk); y (B·NH, Tq, dk).</summary>
    public static void Forward(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, ReadOnlySpan<float> bias,
        Span<float> probabilities, Span<float> y, int batch, int heads, int tq, int tk, int dk, SoftmaxMask mask, WorkerPool pool)
    {
        int bh = batch * heads;
        long qs = (long)tq * dk, ks = (long)tk * dk, ss = (long)tq * tk;
        Gemm.SgemmBatched(Transpose.No, Transpose.Yes, tq, tk, dk, 1f, q, dk, qs, k, dk, ks, 0f, probabilities, tk, ss, bh, pool);
        if (!bias.IsEmpty) T5RelativePosition.AddToScores(probabilities, bias, batch);
        Softmax.Forward(probabilities, probabilities, tk, mask, pool);
        Gemm.SgemmBatched(Transpose.No, Transpose.No, tq, dk, tk, 1f, probabilities, tk, ss, v, dk, ks, 0f, y, dk, qs, bh, pool);
    }

    /// <summary>dq, dk, dv (head-major) from dy; dScores (B·NH, Tq, Tk) is scratch; the bias gradient (NH, Tq, Tk) is added to when given.</summary>
    public static void Backward(ReadOnlySpan<float> dy, ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, ReadOnlySpan<float> probabilities,
        Span<float> dq, Span<float> dkOut, Span<float> dv, Span<float> dScores, Span<float> biasGradient, int batch, int heads, int tq, int tk, int dk, WorkerPool pool)
    {
        int bh = batch * heads;
        long qs = (long)tq * dk, ks = (long)tk * dk, ss = (long)tq * tk;
        Gemm.SgemmBatched(Transpose.No, Transpose.Yes, tq, tk, dk, 1f, dy, dk, qs, v, dk, ks, 0f, dScores, tk, ss, bh, pool);            // dP = dY·Vᵀ
        Gemm.SgemmBatched(Transpose.Yes, Transpose.No, tk, dk, tq, 1f, probabilities, tk, ss, dy, dk, qs, 0f, dv, dk, ks, bh, pool);     // dV = Pᵀ·dY
        Softmax.Backward(probabilities, dScores, dScores, tk, pool);                                                                      // dS
        if (!biasGradient.IsEmpty)
        {
            int n = heads * tq * tk;
            for (int b = 0; b < batch; b++) TensorPrimitives.Add(biasGradient, dScores.Slice(b * n, n), biasGradient);
        }
        Gemm.SgemmBatched(Transpose.No, Transpose.No, tq, dk, tk, 1f, dScores, tk, ss, k, dk, ks, 0f, dq, dk, qs, bh, pool);             // dQ = dS·K
        Gemm.SgemmBatched(Transpose.Yes, Transpose.No, tk, dk, tq, 1f, dScores, tk, ss, q, dk, qs, 0f, dkOut, dk, ks, bh, pool);         // dK = dSᵀ·Q
    }
}

// Causal multi-head self-attention (Vaswani et al. 2017, §3.2.2) from a packed QKV projection,
// as GPT-2 lays it out: qkv is (B, T, 3C) with Q, K, V in thirds and head h at columns
// [h·hs, (h+1)·hs) of each third. Forward, per (batch, head), as batched GEMMs:
//   S = Q·Kᵀ / √hs  (B·NH, T, T);  P = softmax_causal(S);  Y = P·V;  merge heads → (B, T, C).
// Backward, in reverse:
//   dP = dY·Vᵀ;  dV = Pᵀ·dY;  dS = P ⊙ (dP − rowsum(dP ⊙ P));  dQ = dS·K / √hs;  dK = dSᵀ·Q / √hs.
// Saved for backward: Q, K, V in head-major layout (B, NH, T, hs) and P.
using Loom.Core.Threading;

namespace Loom.Core.Kernels;

/// <summary>Shapes of one attention call.</summary>
public readonly record struct AttentionShape(int Batch, int Time, int Channels, int Heads)
{
    public int HeadSize => Channels / Heads;
    public int QkvElements => Batch * Time * 3 * Channels;
    public int HeadElements => Batch * Heads * Time * HeadSize;
    public int ScoreElements => Batch * Heads * Time * Time;

    internal void Validate()
    {
        if (Batch <= 0 || Time <= 0 || Channels <= 0 || Heads <= 0 || Channels % Heads != 0)
            throw new ArgumentException($"Attention needs positive B, T, C, NH with C divisible by NH; got B={Batch}, T={Time}, C={Channels}, NH={Heads}.");
    }
}

/// <summary>Causal multi-head attention forward and backward.</summary>
public static unsafe class Attention
{
    /// <summary>
    /// output (B,T,C) from qkv (B,T,3C). Writes q, k, v (B,NH,T,hs) and probabilities (B,NH,T,T) for the
    /// backward; <paramref name="headOutput"/> (B,NH,T,hs) is scratch.
    /// </summary>
    public static void Forward(ReadOnlySpan<float> qkv, Span<float> output, Span<float> q, Span<float> k, Span<float> v,
        Span<float> probabilities, Span<float> headOutput, AttentionShape s, WorkerPool? pool = null)
    {
        s.Validate();
        Require(qkv.Length, s.QkvElements, "qkv"); Require(output.Length, s.Batch * s.Time * s.Channels, "output");
        Require(q.Length, s.HeadElements, "q"); Require(k.Length, s.HeadElements, "k"); Require(v.Length, s.HeadElements, "v");
        Require(probabilities.Length, s.ScoreElements, "probabilities"); Require(headOutput.Length, s.HeadElements, "headOutput");
        pool ??= WorkerPool.Shared;
        int hs = s.HeadSize, T = s.Time, bh = s.Batch * s.Heads;
        float scale = 1f / MathF.Sqrt(hs);
        fixed (float* pqkv = qkv, pq = q, pk = k, pv = v, pout = output, py = headOutput)
        {
            Ranges.Run(pool, s.Batch * T, 3L * s.Channels, new SplitKernel { Qkv = pqkv, Q = pq, K = pk, V = pv, S = s });
        }
        Gemm.SgemmBatched(Transpose.No, Transpose.Yes, T, T, hs, scale, q, hs, (long)T * hs, k, hs, (long)T * hs, 0f, probabilities, T, (long)T * T, bh, pool);
        Softmax.Forward(probabilities, probabilities, T, SoftmaxMask.CausalSquare, pool);
        Gemm.SgemmBatched(Transpose.No, Transpose.No, T, hs, T, 1f, probabilities, T, (long)T * T, v, hs, (long)T * hs, 0f, headOutput, hs, (long)T * hs, bh, pool);
        fixed (float* py = headOutput, pout = output)
            Ranges.Run(pool, s.Batch * T, s.Channels, new MergeKernel { Heads = py, Out = pout, S = s, Stride = s.Channels, Offset = 0 });
    }

    /// <summary>
    /// dqkv (B,T,3C) from doutput (B,T,C), using the saved q, k, v and probabilities. Scratch:
    /// dHead (B,NH,T,hs) ×4 (dY, dQ, dK, dV) and dScores (B,NH,T,T).
    /// </summary>
    public static void Backward(ReadOnlySpan<float> doutput, ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v,
        ReadOnlySpan<float> probabilities, Span<float> dqkv, Span<float> dHeadOutput, Span<float> dq, Span<float> dk, Span<float> dv,
        Span<float> dScores, AttentionShape s, WorkerPool? pool = null)
    {
        s.Validate();
        Require(doutput.Length, s.Batch * s.Time * s.Channels, "doutput"); Require(dqkv.Length, s.QkvElements, "dqkv");
        Require(dHeadOutput.Length, s.HeadElements, "dHeadOutput"); Require(dq.Length, s.HeadElements, "dq");
        Require(dk.Length, s.HeadElements, "dk"); Require(dv.Length, s.HeadElements, "dv"); Require(dScores.Length, s.ScoreElements, "dScores");
        pool ??= WorkerPool.Shared;
        int hs = s.HeadSize, T = s.Time, bh = s.Batch * s.Heads;
        long th = (long)T * hs, tt = (long)T * T;
        float scale = 1f / MathF.Sqrt(hs);
        fixed (float* pdo = doutput, pdy = dHeadOutput)
            Ranges.Run(pool, s.Batch * T, s.Channels, new SplitOneKernel { Src = pdo, Dst = pdy, S = s });
        Gemm.SgemmBatched(Transpose.No, Transpose.Yes, T, T, hs, 1f, dHeadOutput, hs, th, v, hs, th, 0f, dScores, T, tt, bh, pool);   // dP = dY·Vᵀ
        Gemm.SgemmBatched(Transpose.Yes, Transpose.No, T, hs, T, 1f, probabilities, T, tt, dHeadOutput, hs, th, 0f, dv, hs, th, bh, pool); // dV = Pᵀ·dY
        Softmax.Backward(probabilities, dScores, dScores, T, pool);                                                                    // dS
        Gemm.SgemmBatched(Transpose.No, Transpose.No, T, hs, T, scale, dScores, T, tt, k, hs, th, 0f, dq, hs, th, bh, pool);         // dQ = dS·K/√hs
        Gemm.SgemmBatched(Transpose.Yes, Transpose.No, T, hs, T, scale, dScores, T, tt, q, hs, th, 0f, dk, hs, th, bh, pool);        // dK = dSᵀ·Q/√hs
        fixed (float* pdq = dq, pdk = dk, pdv = dv, pdqkv = dqkv)
        {
            int c = s.Channels;
            Ranges.Run(pool, s.Batch * T, c, new MergeKernel { Heads = pdq, Out = pdqkv, S = s, Stride = 3 * c, Offset = 0 });
            Ranges.Run(pool, s.Batch * T, c, new MergeKernel { Heads = pdk, Out = pdqkv, S = s, Stride = 3 * c, Offset = c });
            Ranges.Run(pool, s.Batch * T, c, new MergeKernel { Heads = pdv, Out = pdqkv, S = s, Stride = 3 * c, Offset = 2 * c });
        }
    }

    private static void Require(int length, long want, string name)
    {
        if (length != want) throw new ArgumentException($"{name} has {length} elements; this attention shape needs {want}.");
    }

    // (B,T,3C) → Q, K, V (B,NH,T,hs); one item per (b, t).
    private struct SplitKernel : IRangeKernel
    {
        public float* Qkv, Q, K, V;
        public AttentionShape S;
        public readonly void Run(int start, int end)
        {
            int hs = S.HeadSize, T = S.Time, C = S.Channels;
            for (int bt = start; bt < end; bt++)
            {
                int b = bt / T, t = bt % T;
                float* row = Qkv + (long)bt * 3 * C;
                for (int h = 0; h < S.Heads; h++)
                {
                    long dst = (((long)b * S.Heads + h) * T + t) * hs;
                    new ReadOnlySpan<float>(row + h * hs, hs).CopyTo(new Span<float>(Q + dst, hs));
                    new ReadOnlySpan<float>(row + C + h * hs, hs).CopyTo(new Span<float>(K + dst, hs));
                    new ReadOnlySpan<float>(row + 2 * C + h * hs, hs).CopyTo(new Span<float>(V + dst, hs));
                }
            }
        }
    }

    // (B,T,C) → (B,NH,T,hs).
    private struct SplitOneKernel : IRangeKernel
    {
        public float* Src, Dst;
        public AttentionShape S;
        public readonly void Run(int start, int end)
        {
            int hs = S.HeadSize, T = S.Time;
            for (int bt = start; bt < end; bt++)
            {
                int b = bt / T, t = bt % T;
                for (int h = 0; h < S.Heads; h++)
                    new ReadOnlySpan<float>(Src + (long)bt * S.Channels + h * hs, hs)
                        .CopyTo(new Span<float>(Dst + (((long)b * S.Heads + h) * T + t) * hs, hs));
            }
        }
    }

    // (B,NH,T,hs) → columns [Offset, Offset + C) of rows of length Stride in (B,T,Stride).
    private struct MergeKernel : IRangeKernel
    {
        public float* Heads, Out;
        public AttentionShape S;
        public int Stride, Offset;
        public readonly void Run(int start, int end)
        {
            int hs = S.HeadSize, T = S.Time;
            for (int bt = start; bt < end; bt++)
            {
                int b = bt / T, t = bt % T;
                for (int h = 0; h < S.Heads; h++)
                    new ReadOnlySpan<float>(Heads + (((long)b * S.Heads + h) * T + t) * hs, hs)
                        .CopyTo(new Span<float>(Out + (long)bt * Stride + Offset + h * hs, hs));
            }
        }
    }
}

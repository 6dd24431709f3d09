// GPT-2's attention (Attention.Forward / Backward over the packed qkv) run head by head: one pool
// dispatch per pass, each thread taking whole (batch, head) pairs and running for each, inline, the split
// out of qkv, the products (per 64-query block over its visible keys, as the batched path), the causal
// softmax and the merge back into rows. It is not a new algorithm: the same GEMM calls on the same
// operands in the same k order, the same softmax rows, so every output is bit-identical to the batched
// path (AttentionPerHeadTests), which stays for dropout and as the comparison (PerHeadPasses = false).
//
// Why: the batched path runs each pass over all B·NH heads before the next pass starts. At B=8, T=256 the
// probabilities and their gradient are 96 × 256 KiB = 24 MiB each, so each of the ~10 passes over them
// (scores, softmax, P·V; dP, dV, softmax backward, dQ, dK) streams them through L3 or DRAM, and each pass
// is its own dispatch (11 forward, 21 backward per layer). Head by head, one head's Q, K, V (64 KiB each
// at hs = 64) and its T×T block (256 KiB) stay in the core's 1 MiB L2 from the split to the merge.
using Loom.Core.Threading;

namespace Loom.Core.Kernels;

public static unsafe partial class Attention
{
    /// <summary>
    /// On: Forward and Backward without attention dropout run head by head (this file); off: the batched
    /// passes (the train bench's LOOM_TRAIN_BATCHED_ATTENTION=1, to compare). The results are the same bits.
    /// </summary>
    internal static bool PerHeadPasses = true;

    // Floats one head's pass touches, for Ranges.Run's thread count.
    private static long HeadCost(int T, int hs) => 3L * T * T + 6L * T * hs;

    private static void ForwardPerHead(float* qkv, float* output, float* q, float* k, float* v, float* probabilities, float* headOutput,
        int* firstVisibleKey, AttentionShape s, WorkerPool pool)
    {
        var kernel = new ForwardHeadKernel
        {
            Qkv = qkv, Out = output, Q = q, K = k, V = v, P = probabilities, Y = headOutput, First = firstVisibleKey, S = s, Pool = pool,
            Skip = CausalBlockSkipping && s.Time >= 2 * CausalBlock,
        };
        Ranges.Run(pool, s.Batch * s.Heads, HeadCost(s.Time, s.HeadSize), kernel);
    }

    private static void BackwardPerHead(float* doutput, float* q, float* k, float* v, float* probabilities, float* dqkv,
        float* dHeadOutput, float* dq, float* dk, float* dv, float* dScores, AttentionShape s, WorkerPool pool)
    {
        var kernel = new BackwardHeadKernel
        {
            DOut = doutput, Q = q, K = k, V = v, P = probabilities, DQkv = dqkv, DY = dHeadOutput, DQ = dq, DK = dk, DV = dv, DS = dScores,
            S = s, Pool = pool, Skip = CausalBlockSkipping && s.Time >= 2 * CausalBlock,
        };
        Ranges.Run(pool, s.Batch * s.Heads, HeadCost(s.Time, s.HeadSize), kernel);
    }

    // Rows t of one head: (T, hs) contiguous ↔ columns [offset + h·hs, +hs) of the (B·T, stride) rows of batch row b.
    private static void HeadFromRows(float* rows, int stride, float* head, int T, int hs)
    {
        for (int t = 0; t < T; t++) new ReadOnlySpan<float>(rows + (long)t * stride, hs).CopyTo(new Span<float>(head + (long)t * hs, hs));
    }

    private static void HeadToRows(float* head, float* rows, int stride, int T, int hs)
    {
        for (int t = 0; t < T; t++) new ReadOnlySpan<float>(head + (long)t * hs, hs).CopyTo(new Span<float>(rows + (long)t * stride, hs));
    }

    private static ReadOnlySpan<float> In(float* p, long n) => new(p, checked((int)n));
    private static Span<float> Out(float* p, long n) => new(p, checked((int)n));

    // Heads [start, end) of the forward: split, S = Q·Kᵀ/√hs, causal softmax, Y = P·V, merge.
    private struct ForwardHeadKernel : IRangeKernel
    {
        public float* Qkv, Out, Q, K, V, P, Y;
        public int* First;   // (B·T) first visible key per query (packed documents), or null
        public AttentionShape S;
        public WorkerPool Pool;
        public bool Skip;

        public readonly void Run(int start, int end)
        {
            int T = S.Time, hs = S.HeadSize, C = S.Channels, H = S.Heads;
            long th = (long)T * hs, tt = (long)T * T;
            float scale = 1f / MathF.Sqrt(hs);
            for (int i = start; i < end; i++)
            {
                int b = i / H, h = i % H;
                float* q = Q + i * th, k = K + i * th, v = V + i * th, p = P + i * tt, y = Y + i * th;
                float* row = Qkv + (long)b * T * 3 * C + h * hs;
                HeadFromRows(row, 3 * C, q, T, hs);
                HeadFromRows(row + C, 3 * C, k, T, hs);
                HeadFromRows(row + 2 * C, 3 * C, v, T, hs);
                var mask = First == null ? SoftmaxMask.CausalSquare : SoftmaxMask.CausalDocuments(new ReadOnlySpan<int>(First + (long)b * T, T), 1);
                if (Skip)
                {
                    for (int r0 = 0; r0 < T; r0 += CausalBlock)
                    {
                        int rows = Math.Min(CausalBlock, T - r0), keys = r0 + rows;
                        Gemm.Sgemm(Transpose.No, Transpose.Yes, rows, keys, hs, scale, In(q + r0 * hs, rows * hs), hs, In(k, keys * hs), hs,
                            0f, Out(p + (long)r0 * T, (long)(rows - 1) * T + keys), T, Pool);
                    }
                    Softmax.Forward(In(p, tt), Out(p, tt), T, mask, Pool);
                    for (int r0 = 0; r0 < T; r0 += CausalBlock)
                    {
                        int rows = Math.Min(CausalBlock, T - r0), keys = r0 + rows;
                        Gemm.Sgemm(Transpose.No, Transpose.No, rows, hs, keys, 1f, In(p + (long)r0 * T, (long)(rows - 1) * T + keys), T, In(v, keys * hs), hs,
                            0f, Out(y + r0 * hs, rows * hs), hs, Pool);
                    }
                }
                else
                {
                    Gemm.Sgemm(Transpose.No, Transpose.Yes, T, T, hs, scale, In(q, th), hs, In(k, th), hs, 0f, Out(p, tt), T, Pool);
                    Softmax.Forward(In(p, tt), Out(p, tt), T, mask, Pool);
                    Gemm.Sgemm(Transpose.No, Transpose.No, T, hs, T, 1f, In(p, tt), T, In(v, th), hs, 0f, Out(y, th), hs, Pool);
                }
                HeadToRows(y, Out + (long)b * T * C + h * hs, C, T, hs);
            }
        }
    }

    // Heads [start, end) of the backward: split dY, dP = dY·Vᵀ, dV = Pᵀ·dY, dS, dQ = dS·K/√hs, dK = dSᵀ·Q/√hs, merge into dqkv.
    private struct BackwardHeadKernel : IRangeKernel
    {
        public float* DOut, Q, K, V, P, DQkv, DY, DQ, DK, DV, DS;
        public AttentionShape S;
        public WorkerPool Pool;
        public bool Skip;

        public readonly void Run(int start, int end)
        {
            int T = S.Time, hs = S.HeadSize, C = S.Channels, H = S.Heads;
            long th = (long)T * hs, tt = (long)T * T;
            float scale = 1f / MathF.Sqrt(hs);
            int last = (T - 1) / CausalBlock * CausalBlock;
            for (int i = start; i < end; i++)
            {
                int b = i / H, h = i % H;
                float* q = Q + i * th, k = K + i * th, v = V + i * th, p = P + i * tt;
                float* dy = DY + i * th, dq = DQ + i * th, dk = DK + i * th, dv = DV + i * th, ds = DS + i * tt;
                HeadFromRows(DOut + (long)b * T * C + h * hs, C, dy, T, hs);
                if (Skip)
                {
                    for (int r0 = 0; r0 < T; r0 += CausalBlock)   // dP = dY·Vᵀ over each block's visible keys
                    {
                        int rows = Math.Min(CausalBlock, T - r0), keys = r0 + rows;
                        Gemm.Sgemm(Transpose.No, Transpose.Yes, rows, keys, hs, 1f, In(dy + r0 * hs, rows * hs), hs, In(v, keys * hs), hs,
                            0f, Out(ds + (long)r0 * T, (long)(rows - 1) * T + keys), T, Pool);
                    }
                    for (int r0 = last; r0 >= 0; r0 -= CausalBlock)   // dV = Pᵀ·dY: the last block writes, the earlier ones add
                    {
                        int rows = Math.Min(CausalBlock, T - r0), keys = r0 + rows;
                        Gemm.Sgemm(Transpose.Yes, Transpose.No, keys, hs, rows, 1f, In(p + (long)r0 * T, (long)(rows - 1) * T + keys), T, In(dy + r0 * hs, rows * hs), hs,
                            r0 == last ? 0f : 1f, Out(dv, keys * hs), hs, Pool);
                    }
                    new CausalSoftmaxBackwardKernel { P = p, DS = ds, T = T }.Run(0, T);   // dS
                    for (int r0 = 0; r0 < T; r0 += CausalBlock)   // dQ = dS·K/√hs
                    {
                        int rows = Math.Min(CausalBlock, T - r0), keys = r0 + rows;
                        Gemm.Sgemm(Transpose.No, Transpose.No, rows, hs, keys, scale, In(ds + (long)r0 * T, (long)(rows - 1) * T + keys), T, In(k, keys * hs), hs,
                            0f, Out(dq + r0 * hs, rows * hs), hs, Pool);
                    }
                    for (int r0 = last; r0 >= 0; r0 -= CausalBlock)   // dK = dSᵀ·Q/√hs, summed over query blocks as dV
                    {
                        int rows = Math.Min(CausalBlock, T - r0), keys = r0 + rows;
                        Gemm.Sgemm(Transpose.Yes, Transpose.No, keys, hs, rows, scale, In(ds + (long)r0 * T, (long)(rows - 1) * T + keys), T, In(q + r0 * hs, rows * hs), hs,
                            r0 == last ? 0f : 1f, Out(dk, keys * hs), hs, Pool);
                    }
                }
                else
                {
                    Gemm.Sgemm(Transpose.No, Transpose.Yes, T, T, hs, 1f, In(dy, th), hs, In(v, th), hs, 0f, Out(ds, tt), T, Pool);     // dP = dY·Vᵀ
                    Gemm.Sgemm(Transpose.Yes, Transpose.No, T, hs, T, 1f, In(p, tt), T, In(dy, th), hs, 0f, Out(dv, th), hs, Pool);     // dV = Pᵀ·dY
                    Softmax.Backward(In(p, tt), In(ds, tt), Out(ds, tt), T, Pool);                                                       // dS
                    Gemm.Sgemm(Transpose.No, Transpose.No, T, hs, T, scale, In(ds, tt), T, In(k, th), hs, 0f, Out(dq, th), hs, Pool);   // dQ = dS·K/√hs
                    Gemm.Sgemm(Transpose.Yes, Transpose.No, T, hs, T, scale, In(ds, tt), T, In(q, th), hs, 0f, Out(dk, th), hs, Pool);  // dK = dSᵀ·Q/√hs
                }
                float* rows3 = DQkv + (long)b * T * 3 * C + h * hs;
                HeadToRows(dq, rows3, 3 * C, T, hs);
                HeadToRows(dk, rows3 + C, 3 * C, T, hs);
                HeadToRows(dv, rows3 + 2 * C, 3 * C, T, hs);
            }
        }
    }
}

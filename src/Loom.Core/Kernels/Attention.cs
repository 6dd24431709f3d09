// Causal multi-head self-attention (Vaswani et al. 2017, §3.2.2) from a packed QKV projection,
// as GPT-2 lays it out: qkv is (B, T, 3C) with Q, K, V in thirds and head h at columns
// [h·hs, (h+1)·hs) of each third. Forward, per (batch, head), as batched GEMMs:
//   S = Q·Kᵀ / √hs  (B·NH, T, T);  P = softmax_causal(S);  Y = P·V;  merge heads → (B, T, C).
// Backward, in reverse:
//   dP = dY·Vᵀ;  dV = Pᵀ·dY;  dS = P ⊙ (dP − rowsum(dP ⊙ P));  dQ = dS·K / √hs;  dK = dSᵀ·Q / √hs.
// Saved for backward: Q, K, V in head-major layout (B, NH, T, hs) and P.
// Causal block skipping: query rows [r0, r0 + Tb) see keys [0, r0 + Tb) only, so with T ≥ 2·Tb
// (Tb = CausalBlock = 64) every product runs per query block over its visible keys, the blocks above
// the diagonal never computed (the tile skipping of FlashAttention-2, Dao 2023 §3.1, done with whole
// batched GEMMs): at T = 256 that is (1+2+3+4)/16 = 62.5% of the full products' work, at T = 1024 53%.
// P still comes out whole (the causal softmax writes the hidden keys' zeros), and the numbers are the
// full products' up to the order of float additions (AttentionBlockTests checks both against a naive
// double reference and the full-product path).
using System.Numerics;
using System.Runtime.Intrinsics;
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

/// <summary>
/// Dropout on the attention probabilities (HF's attn_pdrop / attention_probs_dropout_prob): Y = (P ⊙ M)·V
/// with M the inverted-dropout mask (0 or 1/(1−p)), (batchHeads, T, T); the softmax backward still uses P.
/// <see cref="Scratch"/> (batchHeads, T, T) holds P ⊙ M. Default: no dropout.
/// </summary>
public readonly ref struct AttentionDropout
{
    public ReadOnlySpan<float> Mask { get; }
    public Span<float> Scratch { get; }

    public AttentionDropout(ReadOnlySpan<float> mask, Span<float> scratch)
    {
        if (mask.Length != scratch.Length) throw new ArgumentException($"The attention dropout mask has {mask.Length} elements and its scratch {scratch.Length}; both are (batch·heads, T, T).");
        Mask = mask;
        Scratch = scratch;
    }

    public bool IsActive => !Mask.IsEmpty;
}

/// <summary>Causal multi-head attention forward and backward.</summary>
public static unsafe partial class Attention
{
    /// <summary>
    /// output (B,T,C) from qkv (B,T,3C). Writes q, k, v (B,NH,T,hs) and probabilities (B,NH,T,T) for the
    /// backward; <paramref name="headOutput"/> (B,NH,T,hs) is scratch. <paramref name="firstVisibleKey"/> (B·T, or
    /// empty) packs documents: query t sees keys [firstVisibleKey[b·T + t], t] (<see cref="SoftmaxMask.CausalDocuments"/>).
    /// </summary>
    public static void Forward(ReadOnlySpan<float> qkv, Span<float> output, Span<float> q, Span<float> k, Span<float> v,
        Span<float> probabilities, Span<float> headOutput, AttentionShape s, WorkerPool? pool = null, AttentionDropout dropout = default,
        ReadOnlySpan<int> firstVisibleKey = default)
    {
        s.Validate();
        Require(qkv.Length, s.QkvElements, "qkv"); Require(output.Length, s.Batch * s.Time * s.Channels, "output");
        Require(q.Length, s.HeadElements, "q"); Require(k.Length, s.HeadElements, "k"); Require(v.Length, s.HeadElements, "v");
        Require(probabilities.Length, s.ScoreElements, "probabilities"); Require(headOutput.Length, s.HeadElements, "headOutput");
        pool ??= WorkerPool.Shared;
        int hs = s.HeadSize, T = s.Time, bh = s.Batch * s.Heads;
        float scale = 1f / MathF.Sqrt(hs);
        if (PerHeadPasses && !dropout.IsActive)
        {
            // (Each head's softmax checks its batch row's entries; the length is checked here, before any pointer is read.)
            if (!firstVisibleKey.IsEmpty && firstVisibleKey.Length != s.Batch * T)
                throw new ArgumentException($"firstVisibleKey has {firstVisibleKey.Length} entries; B·T = {s.Batch * T} are needed (one per query).");
            fixed (float* pqkv = qkv, pq = q, pk = k, pv = v, pp = probabilities, pout = output, py = headOutput)
            fixed (int* pf = firstVisibleKey)
                ForwardPerHead(pqkv, pout, pq, pk, pv, pp, py, firstVisibleKey.IsEmpty ? null : pf, s, pool);
            return;
        }
        fixed (float* pqkv = qkv, pq = q, pk = k, pv = v, pout = output, py = headOutput)
        {
            Ranges.Run(pool, s.Batch * T, 3L * s.Channels, new SplitKernel { Qkv = pqkv, Q = pq, K = pk, V = pv, S = s });
        }
        ForwardHeads(q, k, v, probabilities, headOutput, bh, T, hs, SoftmaxMask.CausalDocuments(firstVisibleKey, s.Heads), pool, dropout);
        fixed (float* py = headOutput, pout = output)
            Ranges.Run(pool, s.Batch * T, s.Channels, new MergeKernel { Heads = py, Out = pout, S = s, Stride = s.Channels, Offset = 0 });
    }

    /// <summary>
    /// dqkv (B,T,3C) from doutput (B,T,C), using the saved q, k, v and probabilities. Scratch:
    /// dHead (B,NH,T,hs) ×4 (dY, dQ, dK, dV) and dScores (B,NH,T,T).
    /// </summary>
    public static void Backward(ReadOnlySpan<float> doutput, ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v,
        ReadOnlySpan<float> probabilities, Span<float> dqkv, Span<float> dHeadOutput, Span<float> dq, Span<float> dk, Span<float> dv,
        Span<float> dScores, AttentionShape s, WorkerPool? pool = null, AttentionDropout dropout = default)
    {
        s.Validate();
        Require(doutput.Length, s.Batch * s.Time * s.Channels, "doutput"); Require(dqkv.Length, s.QkvElements, "dqkv");
        Require(dHeadOutput.Length, s.HeadElements, "dHeadOutput"); Require(dq.Length, s.HeadElements, "dq");
        Require(dk.Length, s.HeadElements, "dk"); Require(dv.Length, s.HeadElements, "dv"); Require(dScores.Length, s.ScoreElements, "dScores");
        pool ??= WorkerPool.Shared;
        int hs = s.HeadSize, T = s.Time, bh = s.Batch * s.Heads;
        long th = (long)T * hs, tt = (long)T * T;
        float scale = 1f / MathF.Sqrt(hs);
        Require(probabilities.Length, s.ScoreElements, "probabilities"); Require(q.Length, s.HeadElements, "q");
        Require(k.Length, s.HeadElements, "k"); Require(v.Length, s.HeadElements, "v");
        if (PerHeadPasses && !dropout.IsActive)
        {
            fixed (float* pdo = doutput, pq = q, pk = k, pv = v, pp = probabilities, pdqkv = dqkv, pdy = dHeadOutput, pdq = dq, pdk = dk, pdv = dv, pds = dScores)
                BackwardPerHead(pdo, pq, pk, pv, pp, pdqkv, pdy, pdq, pdk, pdv, pds, s, pool);
            return;
        }
        fixed (float* pdo = doutput, pdy = dHeadOutput)
            Ranges.Run(pool, s.Batch * T, s.Channels, new SplitOneKernel { Src = pdo, Dst = pdy, S = s });
        BackwardHeads(dHeadOutput, q, k, v, probabilities, dq, dk, dv, dScores, bh, T, hs, pool, dropout, causal: true);
        fixed (float* pdq = dq, pdk = dk, pdv = dv, pdqkv = dqkv)
        {
            int c = s.Channels;
            Ranges.Run(pool, s.Batch * T, c, new MergeKernel { Heads = pdq, Out = pdqkv, S = s, Stride = 3 * c, Offset = 0 });
            Ranges.Run(pool, s.Batch * T, c, new MergeKernel { Heads = pdk, Out = pdqkv, S = s, Stride = 3 * c, Offset = c });
            Ranges.Run(pool, s.Batch * T, c, new MergeKernel { Heads = pdv, Out = pdqkv, S = s, Stride = 3 * c, Offset = 2 * c });
        }
    }

    /// <summary>
    /// The attention core on head-major tensors (batchHeads, T, hs): P = softmax_causal(Q·Kᵀ/√hs), Y = P·V.
    /// </summary>
    public static void ForwardHeads(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, Span<float> probabilities,
        Span<float> headOutput, int batchHeads, int time, int headSize, WorkerPool? pool = null) =>
        ForwardHeads(q, k, v, probabilities, headOutput, batchHeads, time, headSize, SoftmaxMask.CausalSquare, pool);

    /// <summary>
    /// The attention core under any <see cref="SoftmaxMask"/>: causal for decoders, or bidirectional with a
    /// key padding mask for encoders (BERT: one keep-byte per key per sequence, RowsPerMaskRow = heads·T).
    /// Masked keys get probability 0, so the backward needs no mask.
    /// </summary>
    public static void ForwardHeads(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, Span<float> probabilities,
        Span<float> headOutput, int batchHeads, int time, int headSize, SoftmaxMask mask, WorkerPool? pool = null, AttentionDropout dropout = default)
    {
        long th = (long)time * headSize, tt = (long)time * time;
        Require(q.Length, batchHeads * th, "q"); Require(k.Length, batchHeads * th, "k"); Require(v.Length, batchHeads * th, "v");
        Require(probabilities.Length, batchHeads * tt, "probabilities"); Require(headOutput.Length, batchHeads * th, "headOutput");
        float scale = 1f / MathF.Sqrt(headSize);
        if (SkipsCausalBlocks(mask, time, dropout.IsActive))
        {
            // S and P·V per query block over its visible keys; the causal softmax reads only keys ≤ t
            // (the stale entries above the diagonal blocks are never read) and writes zeros past them.
            for (int r0 = 0; r0 < time; r0 += CausalBlock)
            {
                int rows = Math.Min(CausalBlock, time - r0), keys = r0 + rows;
                Gemm.SgemmBatched(Transpose.No, Transpose.Yes, rows, keys, headSize, scale, q[(r0 * headSize)..], headSize, th, k, headSize, th,
                    0f, probabilities[(r0 * time)..], time, tt, batchHeads, pool);
            }
            Softmax.Forward(probabilities, probabilities, time, mask, pool);
            for (int r0 = 0; r0 < time; r0 += CausalBlock)
            {
                int rows = Math.Min(CausalBlock, time - r0), keys = r0 + rows;
                Gemm.SgemmBatched(Transpose.No, Transpose.No, rows, headSize, keys, 1f, probabilities[(r0 * time)..], time, tt, v, headSize, th,
                    0f, headOutput[(r0 * headSize)..], headSize, th, batchHeads, pool);
            }
            return;
        }
        Gemm.SgemmBatched(Transpose.No, Transpose.Yes, time, time, headSize, scale, q, headSize, th, k, headSize, th, 0f, probabilities, time, tt, batchHeads, pool);
        Softmax.Forward(probabilities, probabilities, time, mask, pool);
        ReadOnlySpan<float> p = probabilities;
        if (dropout.IsActive)
        {
            Require(dropout.Mask.Length, batchHeads * tt, "attention dropout mask");
            System.Numerics.Tensors.TensorPrimitives.Multiply(probabilities, dropout.Mask, dropout.Scratch);   // P ⊙ M
            p = dropout.Scratch;
        }
        Gemm.SgemmBatched(Transpose.No, Transpose.No, time, headSize, time, 1f, p, time, tt, v, headSize, th, 0f, headOutput, headSize, th, batchHeads, pool);
    }

    /// <summary>
    /// Backward of the ForwardHeads overloads: dQ, dK, dV (head-major) from dY; dScores is scratch.
    /// <paramref name="causal"/>: the probabilities are causal (keys ≤ query, as GPT-2's), so the products
    /// skip the blocks above the diagonal; leave it false for any other mask (BERT's padding).
    /// </summary>
    public static void BackwardHeads(ReadOnlySpan<float> dHeadOutput, ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v,
        ReadOnlySpan<float> probabilities, Span<float> dq, Span<float> dk, Span<float> dv, Span<float> dScores, int batchHeads, int time, int headSize, WorkerPool? pool = null,
        AttentionDropout dropout = default, bool causal = false)
    {
        long th = (long)time * headSize, tt = (long)time * time;
        Require(dq.Length, batchHeads * th, "dq"); Require(dk.Length, batchHeads * th, "dk"); Require(dv.Length, batchHeads * th, "dv");
        Require(dScores.Length, batchHeads * tt, "dScores");
        float scale = 1f / MathF.Sqrt(headSize);
        int T = time, hs = headSize, bh = batchHeads;
        if (causal && CausalBlockSkipping && !dropout.IsActive && T >= 2 * CausalBlock)
        {
            Require(dHeadOutput.Length, batchHeads * th, "dHeadOutput"); Require(q.Length, batchHeads * th, "q"); Require(k.Length, batchHeads * th, "k");
            Require(v.Length, batchHeads * th, "v"); Require(probabilities.Length, batchHeads * tt, "probabilities");
            int last = (T - 1) / CausalBlock * CausalBlock;
            for (int r0 = 0; r0 < T; r0 += CausalBlock)   // dP = dY·Vᵀ over each block's visible keys
            {
                int rows = Math.Min(CausalBlock, T - r0), keys = r0 + rows;
                Gemm.SgemmBatched(Transpose.No, Transpose.Yes, rows, keys, hs, 1f, dHeadOutput[(r0 * hs)..], hs, th, v, hs, th, 0f, dScores[(r0 * T)..], T, tt, bh, pool);
            }
            // dV = Pᵀ·dY, summed over query blocks: the last block sees every key and writes dV, the earlier ones add to their keys.
            for (int r0 = last; r0 >= 0; r0 -= CausalBlock)
            {
                int rows = Math.Min(CausalBlock, T - r0), keys = r0 + rows;
                Gemm.SgemmBatched(Transpose.Yes, Transpose.No, keys, hs, rows, 1f, probabilities[(r0 * T)..], T, tt, dHeadOutput[(r0 * hs)..], hs, th,
                    r0 == last ? 0f : 1f, dv, hs, th, bh, pool);
            }
            fixed (float* pp = probabilities, pd = dScores)
                Ranges.Run(pool, bh * T, 3L * T / 2, new CausalSoftmaxBackwardKernel { P = pp, DS = pd, T = T });      // dS
            for (int r0 = 0; r0 < T; r0 += CausalBlock)   // dQ = dS·K/√hs
            {
                int rows = Math.Min(CausalBlock, T - r0), keys = r0 + rows;
                Gemm.SgemmBatched(Transpose.No, Transpose.No, rows, hs, keys, scale, dScores[(r0 * T)..], T, tt, k, hs, th, 0f, dq[(r0 * hs)..], hs, th, bh, pool);
            }
            for (int r0 = last; r0 >= 0; r0 -= CausalBlock)   // dK = dSᵀ·Q/√hs, summed over query blocks as dV
            {
                int rows = Math.Min(CausalBlock, T - r0), keys = r0 + rows;
                Gemm.SgemmBatched(Transpose.Yes, Transpose.No, keys, hs, rows, scale, dScores[(r0 * T)..], T, tt, q[(r0 * hs)..], hs, th,
                    r0 == last ? 0f : 1f, dk, hs, th, bh, pool);
            }
            return;
        }
        Gemm.SgemmBatched(Transpose.No, Transpose.Yes, T, T, hs, 1f, dHeadOutput, hs, th, v, hs, th, 0f, dScores, T, tt, bh, pool);   // dP = dY·Vᵀ
        ReadOnlySpan<float> p = probabilities;
        if (dropout.IsActive)
        {
            // Y = (P ⊙ M)·V: dV = (P ⊙ M)ᵀ·dY, dP = (dY·Vᵀ) ⊙ M
            Require(dropout.Mask.Length, batchHeads * tt, "attention dropout mask");
            System.Numerics.Tensors.TensorPrimitives.Multiply(probabilities, dropout.Mask, dropout.Scratch);
            System.Numerics.Tensors.TensorPrimitives.Multiply(dScores, dropout.Mask, dScores);
            p = dropout.Scratch;
        }
        Gemm.SgemmBatched(Transpose.Yes, Transpose.No, T, hs, T, 1f, p, T, tt, dHeadOutput, hs, th, 0f, dv, hs, th, bh, pool); // dV = Pᵀ·dY
        Softmax.Backward(probabilities, dScores, dScores, T, pool);                                                                    // dS
        Gemm.SgemmBatched(Transpose.No, Transpose.No, T, hs, T, scale, dScores, T, tt, k, hs, th, 0f, dq, hs, th, bh, pool);         // dQ = dS·K/√hs
        Gemm.SgemmBatched(Transpose.Yes, Transpose.No, T, hs, T, scale, dScores, T, tt, q, hs, th, 0f, dk, hs, th, bh, pool);        // dK = dSᵀ·Q/√hs
    }

    /// <summary>
    /// Attention from separate projection rows, as Llama and BERT produce them: q (B, T, heads·hs),
    /// k and v (B, T, kvHeads·hs). Writes the head-major q, k, v (B, heads, T, hs) and probabilities
    /// saved for the backward, and the output rows (B, T, heads·hs); headScratch is (B, heads, T, hs).
    /// </summary>
    public static void ForwardRows(ReadOnlySpan<float> qRows, ReadOnlySpan<float> kRows, ReadOnlySpan<float> vRows,
        Span<float> q, Span<float> k, Span<float> v, Span<float> probabilities, Span<float> headScratch, Span<float> output,
        int batch, int time, int heads, int kvHeads, int headSize, SoftmaxMask mask, WorkerPool? pool = null, AttentionDropout dropout = default)
    {
        ToHeads(qRows, q, batch, time, heads, heads, headSize, pool);
        ToHeads(kRows, k, batch, time, kvHeads, heads, headSize, pool);
        ToHeads(vRows, v, batch, time, kvHeads, heads, headSize, pool);
        ForwardHeads(q, k, v, probabilities, headScratch, batch * heads, time, headSize, mask, pool, dropout);
        FromHeads(headScratch, output, batch, time, heads, heads, headSize, pool);
    }

    /// <summary>
    /// Backward of <see cref="ForwardRows"/>: gradients of the q, k, v rows from the output rows' gradient.
    /// Key/value gradients of query heads that share a KV head are summed. dY, dQ, dK, dV are head-major
    /// scratch (B, heads, T, hs); dScores is (B, heads, T, T).
    /// </summary>
    public static void BackwardRows(ReadOnlySpan<float> dOutput, ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v,
        ReadOnlySpan<float> probabilities, Span<float> dY, Span<float> dQ, Span<float> dK, Span<float> dV, Span<float> dScores,
        Span<float> dqRows, Span<float> dkRows, Span<float> dvRows, int batch, int time, int heads, int kvHeads, int headSize, WorkerPool? pool = null,
        AttentionDropout dropout = default)
    {
        ToHeads(dOutput, dY, batch, time, heads, heads, headSize, pool);
        BackwardHeads(dY, q, k, v, probabilities, dQ, dK, dV, dScores, batch * heads, time, headSize, pool, dropout);
        FromHeads(dQ, dqRows, batch, time, heads, heads, headSize, pool);
        FromHeads(dK, dkRows, batch, time, kvHeads, heads, headSize, pool);
        FromHeads(dV, dvRows, batch, time, kvHeads, heads, headSize, pool);
    }

    /// <summary>
    /// (B, T, srcHeads·hs) rows → head-major (B, heads, T, hs). With grouped-query attention
    /// (srcHeads &lt; heads), query head h reads source head h / (heads / srcHeads), as HF's repeat_interleave.
    /// </summary>
    public static void ToHeads(ReadOnlySpan<float> rows, Span<float> heads, int batch, int time, int srcHeads, int headCount, int headSize, WorkerPool? pool = null)
    {
        if (headCount % srcHeads != 0) throw new ArgumentException($"{headCount} heads cannot share {srcHeads} key/value heads evenly.");
        Require(rows.Length, (long)batch * time * srcHeads * headSize, "rows"); Require(heads.Length, (long)batch * headCount * time * headSize, "heads");
        fixed (float* pr = rows, ph = heads)
            Ranges.Run(pool, batch * time, (long)headCount * headSize, new HeadsKernel { Rows = pr, Heads = ph, T = time, RowHeads = srcHeads, HeadCount = headCount, Hs = headSize, ToHeadLayout = true });
    }

    /// <summary>Head-major (B, heads, T, hs) → rows (B, T, dstHeads·hs); groups of heads sharing a destination head are summed (the backward of <see cref="ToHeads"/>).</summary>
    public static void FromHeads(ReadOnlySpan<float> heads, Span<float> rows, int batch, int time, int dstHeads, int headCount, int headSize, WorkerPool? pool = null)
    {
        if (headCount % dstHeads != 0) throw new ArgumentException($"{headCount} heads cannot share {dstHeads} key/value heads evenly.");
        Require(rows.Length, (long)batch * time * dstHeads * headSize, "rows"); Require(heads.Length, (long)batch * headCount * time * headSize, "heads");
        fixed (float* pr = rows, ph = heads)
            Ranges.Run(pool, batch * time, (long)headCount * headSize, new HeadsKernel { Rows = pr, Heads = ph, T = time, RowHeads = dstHeads, HeadCount = headCount, Hs = headSize, ToHeadLayout = false });
    }

    private struct HeadsKernel : IRangeKernel
    {
        public float* Rows, Heads;
        public int T, RowHeads, HeadCount, Hs;
        public bool ToHeadLayout;
        public readonly void Run(int start, int end)
        {
            int group = HeadCount / RowHeads;
            for (int bt = start; bt < end; bt++)
            {
                int b = bt / T, t = bt % T;
                float* row = Rows + (long)bt * RowHeads * Hs;
                if (!ToHeadLayout) new Span<float>(row, RowHeads * Hs).Clear();
                for (int h = 0; h < HeadCount; h++)
                {
                    float* head = Heads + (((long)b * HeadCount + h) * T + t) * Hs;
                    float* r = row + (h / group) * Hs;
                    if (ToHeadLayout) new ReadOnlySpan<float>(r, Hs).CopyTo(new Span<float>(head, Hs));
                    else VectorOps.AddInPlace(r, head, Hs);
                }
            }
        }
    }

    /// <summary>Query rows per block of the causal block skipping (see the file header).</summary>
    internal const int CausalBlock = 64;

    /// <summary>Off: the full T×T products always run (the train bench's LOOM_TRAIN_FULL_ATTENTION=1, to compare).</summary>
    internal static bool CausalBlockSkipping = true;

    // Plain causal self-attention (every query sees keys ≤ itself, or a packed document's subset of them)
    // without attention dropout, long enough for two blocks: the forward may skip the upper blocks.
    private static bool SkipsCausalBlocks(SoftmaxMask mask, int time, bool dropout) =>
        CausalBlockSkipping && mask.Causal && (mask.QueryRows == 0 || mask.QueryRows == time) && mask.KeyPadding.IsEmpty && !dropout && time >= 2 * CausalBlock;

    // dS = P ⊙ (dP − Σ_j dP_j·P_j) (Softmax.Backward) over row t's keys [0, t], then zeros in (t, keys of its
    // block): the columns the dQ and dK products read. dP past the block's keys is never read (it is stale).
    private struct CausalSoftmaxBackwardKernel : IRangeKernel
    {
        public float* P, DS;   // (rows, T); DS holds dP on entry and dS on exit
        public int T;

        public readonly void Run(int start, int end)
        {
            int w = Vector<float>.Count;
            for (int r = start; r < end; r++)
            {
                int t = r % T, n = t + 1, keys = Math.Min(T, (t / CausalBlock + 1) * CausalBlock);
                float* y = P + (long)r * T, d = DS + (long)r * T;
                float dot = VectorOps.Dot(d, y, n);
                int j = 0;
                if (Vector512.IsHardwareAccelerated)
                {
                    var zdot = Vector512.Create(dot);
                    for (; j <= n - 16; j += 16)
                        (Vector512.Load(y + j) * (Vector512.Load(d + j) - zdot)).Store(d + j);
                }
                var vdot = new Vector<float>(dot);
                for (; j <= n - w; j += w)
                    VectorOps.Store(d + j, VectorOps.Load(y + j) * (VectorOps.Load(d + j) - vdot));
                for (; j < n; j++) d[j] = y[j] * (d[j] - dot);
                if (keys > n) VectorOps.Clear(d + n, keys - n);
            }
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

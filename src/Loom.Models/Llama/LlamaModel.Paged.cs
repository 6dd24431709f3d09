// Batched decoding over a paged KV cache (IBatchedDecoder) for Llama: the forward pass's lines for R
// new rows of any number of sequences at once. Each row is rotated (RoPE) at its own position, its
// rotated keys and its values go into its sequence's blocks, and each query head attends over its
// kv-head's cached keys (grouped-query attention). Projections and the SwiGLU MLP run as one (R, ·)
// matrix product; the head runs only on each sequence's last row.
using Loom.Core.Kernels;
using Loom.Models.Paged;

namespace Loom.Models.Llama;

public sealed partial class LlamaModel : IBatchedDecoder
{
    private readonly PagedRows _pagedRows = new();
    private readonly PagedWorkspace _paged = new();

    /// <inheritdoc/>
    public KvCacheShape KvShape => _kvShape ??= new(Config.Layers, Config.KvHeads, Config.HeadDim);

    private KvCacheShape? _kvShape;   // made once: ForwardPaged compares it with the pool's every call (a record: no garbage per token)

    /// <inheritdoc/>
    public void ForwardPaged(IReadOnlyList<KvSequence> sequences, ReadOnlySpan<int> tokens, ReadOnlySpan<int> counts, Span<float> logits)
    {
        int C = Config.HiddenSize, V = Config.VocabSize, NH = Config.Heads, NKV = Config.KvHeads, hd = Config.HeadDim, I = Config.IntermediateSize, n = sequences.Count;
        if (n == 0) return;
        var pool = sequences[0].Pool;
        if (pool.Shape != KvShape) throw new ArgumentException($"The KV block pool holds {pool.Shape}; this model needs {KvShape}.");
        if (logits.Length < (long)n * V) throw new ArgumentException($"logits has {logits.Length} floats; {n} sequences × vocab {V} need {(long)n * V}.");
        var rows = _pagedRows;
        rows.Build(sequences, tokens, counts, Config.MaxPositions, V, pool);
        int R = rows.Rows, half = hd / 2, span = rows.MaxSpan;
        var p = Parameters;
        float eps = Config.RmsNormEpsilon;
        long q = (long)NH * hd, kv = (long)NKV * hd;
        _paged.Reset(R * (2L * C + q + 2 * kv + q + 2L * I + 1 + 2L * half) + 2L * n * C + n);
        Span<float> x = _paged.Take((long)R * C), ln = _paged.Take((long)R * C), qr = _paged.Take(R * q), kr = _paged.Take(R * kv),
            vr = _paged.Take(R * kv), y = _paged.Take(R * q), gate = _paged.Take((long)R * I), up = _paged.Take((long)R * I), rstd = _paged.Take(R),
            cosRows = _paged.Take((long)R * half), sinRows = _paged.Take((long)R * half),
            last = _paged.Take((long)n * C), lastLn = _paged.Take((long)n * C), lastRstd = _paged.Take(n);

        // The rows of the tables the full forward would build for a window reaching the longest row (per
        // position they do not depend on the window for linear or no scaling, nor for dynamic NTK below the
        // trained length, which a sequence never passes), one per new token: only those rows are computed,
        // not the whole window's (which made a decode step O(context) in sines and cosines).
        Rotary.TablesAt(rows.Positions, span, hd, Config.RopeTheta, Config.RopeScaling?.ToKernel() ?? default, Config.MaxPositions, cosRows, sinRows);

        Embedding.Forward(rows.TokenIds, p.Value(_embed), C, x, _pool);
        float scale = 1f / MathF.Sqrt(hd);
        for (int l = 0; l < Config.Layers; l++)
        {
            var L = _layers[l];
            RmsNorm.Forward(x, p.Value(L.InNorm), ln, rstd, C, eps, _pool);
            L.Q.ForwardDecode(ln, qr, R);
            L.K.ForwardDecode(ln, kr, R);
            L.V.ForwardDecode(ln, vr, R);
            // row r sits at "time" r of a one-sequence window whose tables are the gathered rows
            Rotary.Apply(qr, R, NH, hd, cosRows, sinRows, false, 0, _pool);
            Rotary.Apply(kr, R, NKV, hd, cosRows, sinRows, false, 0, _pool);
            PagedAttention.WriteKv(pool, rows, l, kr, (int)kv, vr, (int)kv);
            PagedAttention.Attend(pool, rows, l, qr, (int)q, NH, y, scale, _pool);
            // Projection then residual add (not an accumulating GEMM): one row takes the matrix-vector path, which reads each weight once.
            L.O.ForwardDecode(y, ln, R);
            Arithmetic.Add(x, ln, x, _pool);
            RmsNorm.Forward(x, p.Value(L.PostNorm), ln, rstd, C, eps, _pool);
            L.Gate.ForwardDecode(ln, gate, R);
            L.Up.ForwardDecode(ln, up, R);
            Activations.SiluForward(gate, gate, _pool);
            Arithmetic.Multiply(gate, up, gate, _pool);
            L.Down.ForwardDecode(gate, ln, R);
            Arithmetic.Add(x, ln, x, _pool);
        }
        for (int i = 0; i < n; i++) x.Slice(rows.LastRow[i] * C, C).CopyTo(last.Slice(i * C, C));
        RmsNorm.Forward(last, p.Value(_norm), lastLn, lastRstd, C, eps, _pool);
        Head.Projection.ForwardDecode(lastLn, logits[..(n * V)], n);
        rows.Commit(sequences, counts);
    }
}

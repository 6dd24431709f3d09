// Batched decoding over a paged KV cache (IBatchedDecoder): the forward pass's lines for R new rows
// of any number of sequences at once — every projection and the MLP one (R, ·) matrix product, the
// attention per row over its own sequence's blocks (PagedAttention) — and the head only on each
// sequence's last row.
using Loom.Core.Diagnostics;
using Loom.Core.Kernels;
using Loom.Models.Paged;

namespace Loom.Models.Gpt2;

public sealed partial class Gpt2Model : IBatchedDecoder
{
    private readonly PagedRows _pagedRows = new();
    private readonly PagedWorkspace _paged = new();

    /// <inheritdoc/>
    public KvCacheShape KvShape => _kvShape ??= new(Config.Layers, Config.Heads, Config.Embedding / Config.Heads);

    private KvCacheShape? _kvShape;   // made once: ForwardPaged compares it with the pool's every call (a record: no garbage per token)

    /// <inheritdoc/>
    public void ForwardPaged(IReadOnlyList<KvSequence> sequences, ReadOnlySpan<int> tokens, ReadOnlySpan<int> counts, Span<float> logits)
    {
        RequireWholeModel("Decoding with a KV cache");
        int C = Config.Embedding, V = Config.VocabSize, NH = Config.Heads, hs = C / NH, n = sequences.Count;
        if (n == 0) return;
        var pool = sequences[0].Pool;
        if (pool.Shape != KvShape) throw new ArgumentException($"The KV block pool holds {pool.Shape}; this model needs {KvShape}.");
        if (logits.Length < (long)n * V) throw new ArgumentException($"logits has {logits.Length} floats; {n} sequences × vocab {V} need {(long)n * V}.");
        var rows = _pagedRows;
        rows.Build(sequences, tokens, counts, Config.MaxPositions, V, pool);
        int R = rows.Rows;
        var p = Parameters;
        float eps = Config.LayerNormEpsilon;
        // x, ln, att (R·C each), qkv (R·3C), hidden (R·4C), stats (2R), last rows (2·n·C)
        _paged.Reset((long)R * C * 10 + 2L * R + 2L * n * C + 2 * n);
        Span<float> x = _paged.Take((long)R * C), ln = _paged.Take((long)R * C), att = _paged.Take((long)R * C),
            qkv = _paged.Take((long)R * 3 * C), hidden = _paged.Take((long)R * 4 * C), mean = _paged.Take(R), rstd = _paged.Take(R),
            last = _paged.Take((long)n * C), lastLn = _paged.Take((long)n * C), lastMean = _paged.Take(n), lastRstd = _paged.Take(n);

        // x = wte[ids] + wpe[pos]
        var wte = p.Value(_wte);
        var wpe = p.Value(_wpe);
        using (OpProfiler.Op("elementwise", "wte+wpe"))
            for (int r = 0; r < R; r++)
                Arithmetic.Add(wte.Slice(rows.Tokens[r] * C, C), wpe.Slice(rows.Position[r] * C, C), x.Slice(r * C, C));
        float scale = 1f / MathF.Sqrt(hs);
        // Each line is timed under LOOM_DECODE_PROFILE (bench/Loom.Bench/DecodeProfile.cs); off, a scope is one bool read.
        for (int l = 0; l < Config.Layers; l++)
        {
            var L = _layers[l];
            using (OpProfiler.Op("elementwise", "ln_1"))
                LayerNorm.Forward(x, p.Value(L.Ln1W), p.Value(L.Ln1B), ln, mean, rstd, C, eps, _pool);
            using (OpProfiler.Op("matvec", "c_attn"))
                L.Attn.ForwardDecode(ln, qkv, R);
            // qkv row: [q (C) | k (C) | v (C)], head h at h·hs within each
            using (OpProfiler.Op("attention", "kv write"))
                PagedAttention.WriteKv(pool, rows, l, qkv[C..], 3 * C, qkv[(2 * C)..], 3 * C);
            using (OpProfiler.Op("attention", "attend"))
                PagedAttention.Attend(pool, rows, l, qkv, 3 * C, NH, att, scale, _pool);
            // Projection then residual add (not an accumulating GEMM): one row takes the matrix-vector path, which reads each weight once.
            using (OpProfiler.Op("matvec", "attn.c_proj"))
                L.Proj.ForwardDecode(att, ln, R);
            using (OpProfiler.Op("elementwise", "residual"))
                Arithmetic.Add(x, ln, x, _pool);
            using (OpProfiler.Op("elementwise", "ln_2"))
                LayerNorm.Forward(x, p.Value(L.Ln2W), p.Value(L.Ln2B), ln, mean, rstd, C, eps, _pool);
            using (OpProfiler.Op("matvec", "c_fc"))
                L.Fc.ForwardDecode(ln, hidden, R);
            using (OpProfiler.Op("elementwise", "gelu"))
                Activations.GeluForward(hidden, hidden, _pool);
            using (OpProfiler.Op("matvec", "mlp.c_proj"))
                L.Mproj.ForwardDecode(hidden, ln, R);
            using (OpProfiler.Op("elementwise", "residual"))
                Arithmetic.Add(x, ln, x, _pool);
        }
        // Only each sequence's last row reaches ln_f and the head.
        using (OpProfiler.Op("elementwise", "ln_f"))
        {
            for (int i = 0; i < n; i++) x.Slice(rows.LastRow[i] * C, C).CopyTo(last.Slice(i * C, C));
            LayerNorm.Forward(last, p.Value(_lnfW), p.Value(_lnfB), lastLn, lastMean, lastRstd, C, eps, _pool);
        }
        using (OpProfiler.Op("matvec", "lm_head"))
            Head.Projection.ForwardDecode(lastLn, logits[..(n * V)], n);
        rows.Commit(sequences, counts);
    }
}

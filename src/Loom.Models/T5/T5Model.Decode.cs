// Cached decoding (transformers' T5 with use_cache): the encoder runs once per source; each decoder
// block's cross-attention keys and values are projected from its output once; each step runs one
// token per hypothesis row at position t, appends its self-attention key and value, and attends
// over positions 0..t with the causal position bias of row t (compute_bias(t+1, t+1)[:, :, -1:]).
// Every step reuses the cache's planned block.
using System.Numerics.Tensors;
using Loom.Core.Kernels;

namespace Loom.Models.T5;

public sealed partial class T5Model
{
    /// <inheritdoc/>
    public ISeq2SeqDecoderCache Encode(ReadOnlySpan<int> sourceIds, int rows, int capacity)
    {
        if (sourceIds.IsEmpty) throw new ArgumentException("The source is empty; T5 needs at least one input id (T5Tokenizer ends every source with </s>).");
        if (rows < 1) throw new ArgumentOutOfRangeException(nameof(rows), rows, "A decoder cache needs at least one row.");
        if (capacity < 1) throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "A decoder cache needs room for at least one position.");
        int S = sourceIds.Length, NH = Config.NumHeads, dk = Config.DKv, I = Config.InnerDim;
        var a = Plan(1, S, 1);
        CheckIds(sourceIds, "input_ids");
        sourceIds.CopyTo(a.EncIds);
        Array.Fill(a.Keep, (byte)1);
        ForwardEncoder(a);
        var cache = new T5DecoderCache(this, Config, rows, capacity, S);
        var src = cache[cache.SourceRows];
        for (int l = 0; l < _decoder.Length; l++)
        {
            _decoder[l].Kx!.Forward(a[a.EncOut], src, S);
            Attention.ToHeads(src, cache[cache.CrossK[l]], 1, S, NH, NH, dk, _pool);
            _decoder[l].Vx!.Forward(a[a.EncOut], src, S);
            Attention.ToHeads(src, cache[cache.CrossV[l]], 1, S, NH, NH, dk, _pool);
        }
        return cache;
    }

    /// <inheritdoc/>
    public ReadOnlySpan<float> DecodeNext(ISeq2SeqDecoderCache cache, ReadOnlySpan<int> tokens)
    {
        if (cache is not T5DecoderCache c || !ReferenceEquals(c.Owner, this)) throw new ArgumentException("The cache was not made by this model's Encode.", nameof(cache));
        if (tokens.Length != c.Rows) throw new ArgumentException($"DecodeNext needs one token per cache row ({c.Rows}); got {tokens.Length}.");
        if (c.Length >= c.Capacity) throw new InvalidOperationException($"The decoder cache is full ({c.Capacity} positions); encode again with a larger capacity.");
        CheckIds(tokens, "decoder_input_ids");
        var p = Parameters;
        int R = c.Rows, t = c.Length, Cap = c.Capacity, S = c.S, C = Config.DModel, NH = Config.NumHeads, dk = Config.DKv, I = Config.InnerDim;
        float eps = Config.LayerNormEpsilon;
        var x = c[c.X];
        var ln = c[c.Ln];
        Embedding.Forward(tokens, p.Value(_shared), C, x, _pool);
        // Row t of the causal position bias: bias[h, j] = table_d[bucket(j − t), h], j ≤ t.
        var bias = c[c.Bias];
        var table = p.Value(_decTable);
        for (int j = 0; j <= t; j++)
        {
            int bucket = T5RelativePosition.Bucket(j - t, false, Config.RelativeAttentionNumBuckets, Config.RelativeAttentionMaxDistance);
            for (int h = 0; h < NH; h++) bias[h * Cap + j] = table[bucket * NH + h];
        }
        var q = c[c.QRow];
        var k = c[c.KRow];
        var v = c[c.VRow];
        var ctx = c[c.Ctx];
        var scores = c[c.Scores];
        for (int l = 0; l < _decoder.Length; l++)
        {
            var L = _decoder[l];
            // y = y + o(attn(norm(y))) over the cached positions 0..t
            RmsNorm.Forward(x, p.Value(L.SelfNorm), ln, c[c.Rstd], C, eps, _pool);
            L.Q.Forward(ln, q, R);
            L.K.Forward(ln, k, R);
            L.V.Forward(ln, v, R);
            var selfK = c[c.SelfK[l]];
            var selfV = c[c.SelfV[l]];
            for (int r = 0; r < R; r++)
                for (int h = 0; h < NH; h++)
                {
                    int at = ((r * NH + h) * Cap + t) * dk;
                    k.Slice((r * NH + h) * dk, dk).CopyTo(selfK.Slice(at, dk));
                    v.Slice((r * NH + h) * dk, dk).CopyTo(selfV.Slice(at, dk));
                }
            for (int r = 0; r < R; r++)
                for (int h = 0; h < NH; h++)
                {
                    int head = (r * NH + h) * Cap * dk;
                    AttendRow(q.Slice((r * NH + h) * dk, dk), selfK.Slice(head, Cap * dk), selfV.Slice(head, Cap * dk), bias.Slice(h * Cap, Cap), t + 1,
                        scores, ctx.Slice((r * NH + h) * dk, dk), dk);
                }
            L.O.Forward(ctx, x, R, accumulate: true);
            // y = y + o(attn(q(norm(y)), k(enc), v(enc))), no position bias
            RmsNorm.Forward(x, p.Value(L.CrossNorm), ln, c[c.Rstd], C, eps, _pool);
            L.Qx!.Forward(ln, q, R);
            var crossK = c[c.CrossK[l]];
            var crossV = c[c.CrossV[l]];
            for (int r = 0; r < R; r++)
                for (int h = 0; h < NH; h++)
                    AttendRow(q.Slice((r * NH + h) * dk, dk), crossK.Slice(h * S * dk, S * dk), crossV.Slice(h * S * dk, S * dk), default, S,
                        scores, ctx.Slice((r * NH + h) * dk, dk), dk);
            L.Ox!.Forward(ctx, x, R, accumulate: true);
            // y = y + wo(ff(norm(y)))
            RmsNorm.Forward(x, p.Value(L.FfNorm), ln, c[c.Rstd], C, eps, _pool);
            L.Wi.Forward(ln, c[c.Pre], R);
            if (L.Wi1 is { } wi1)
            {
                wi1.Forward(ln, c[c.Up], R);
                Activations.GeluForward(c[c.Pre], c[c.Act], _pool);
                Arithmetic.Multiply(c[c.Act], c[c.Up], c[c.Act], _pool);
            }
            else TensorPrimitives.Max(c[c.Pre], 0f, c[c.Act]);
            L.Wo.Forward(c[c.Act], x, R, accumulate: true);
        }
        var h0 = c[c.Out];
        RmsNorm.Forward(x, p.Value(_decFinal), h0, c[c.Rstd], C, eps, _pool);
        if (Config.TieWordEmbeddings) TensorPrimitives.Multiply(h0, HeadScale, h0);
        _head.Forward(h0, c[c.Logits], R);
        c.Length = t + 1;
        return c[c.Logits];
    }

    // One query row against n keys: y = softmax(q·Kᵀ + bias)·V (no 1/√d_kv, as in training).
    private static void AttendRow(ReadOnlySpan<float> q, ReadOnlySpan<float> keys, ReadOnlySpan<float> values, ReadOnlySpan<float> bias, int n,
        Span<float> scores, Span<float> y, int dk)
    {
        var s = scores[..n];
        for (int j = 0; j < n; j++) s[j] = TensorPrimitives.Dot(q, keys.Slice(j * dk, dk)) + (bias.IsEmpty ? 0f : bias[j]);
        TensorPrimitives.SoftMax(s, s);
        y.Clear();
        for (int j = 0; j < n; j++) TensorPrimitives.MultiplyAdd(values.Slice(j * dk, dk), s[j], y, y);
    }
}

// T5's forward in layer order and backward in exact reverse (see T5Model.cs for the equations).
using System.Numerics.Tensors;
using Loom.Core.Kernels;
using Loom.Models.Projections;

namespace Loom.Models.T5;

public sealed partial class T5Model
{
    // ---- forward ----

    private void ForwardEncoder(T5Activations a)
    {
        var p = Parameters;
        int B = a.B, S = a.S, C = Config.DModel, NH = Config.NumHeads;
        Embedding.Forward(a.EncIds, p.Value(_shared), C, a[a.EncEmbedded], _pool);                     // x = shared[input_ids]
        T5RelativePosition.Buckets(a.EncBuckets, S, S, 0, true, Config.RelativeAttentionNumBuckets, Config.RelativeAttentionMaxDistance);
        T5RelativePosition.Forward(p.Value(_encTable), a.EncBuckets, NH, a[a.EncBias]);                // bias_e (NH, S, S)
        var mask = new SoftmaxMask { KeyPadding = a.Keep, RowsPerMaskRow = NH * S };
        ReadOnlySpan<float> x = a[a.EncEmbedded];
        for (int l = 0; l < _encoder.Length; l++)
        {
            var L = _encoder[l];
            var r = a.EncSelf[l];
            Attend(a, L.SelfNorm, L.Q, L.K, L.V, L.O, r, x, B, S, null, S, a[a.EncBias], mask);        // x = x + o(attn(norm(x)))
            FeedForward(a, L, a.EncFf[l], a[r.Out], B * S);                                             // x = x + wo(ff(norm(x)))
            x = a[a.EncFf[l].Out];
        }
        RmsNorm.Forward(x, p.Value(_encFinal), a[a.EncOut], a[a.EncRstd], C, Config.LayerNormEpsilon, _pool);
    }

    private void ForwardDecoder(T5Activations a)
    {
        var p = Parameters;
        int B = a.B, S = a.S, T = a.T, C = Config.DModel, NH = Config.NumHeads, BT = B * T;
        Embedding.Forward(a.DecIds, p.Value(_shared), C, a[a.DecEmbedded], _pool);                     // y = shared[decoder_input_ids]
        T5RelativePosition.Buckets(a.DecBuckets, T, T, 0, false, Config.RelativeAttentionNumBuckets, Config.RelativeAttentionMaxDistance);
        T5RelativePosition.Forward(p.Value(_decTable), a.DecBuckets, NH, a[a.DecBias]);                // bias_d (NH, T, T)
        var cross = new SoftmaxMask { KeyPadding = a.Keep, RowsPerMaskRow = NH * T };
        ReadOnlySpan<float> y = a[a.DecEmbedded];
        for (int l = 0; l < _decoder.Length; l++)
        {
            var L = _decoder[l];
            Attend(a, L.SelfNorm, L.Q, L.K, L.V, L.O, a.DecSelf[l], y, B, T, null, T, a[a.DecBias], SoftmaxMask.CausalSquare);
            Attend(a, L.CrossNorm, L.Qx!, L.Kx!, L.Vx!, L.Ox!, a.DecCross[l], a[a.DecSelf[l].Out], B, T, a[a.EncOut], S, default, cross);
            FeedForward(a, L, a.DecFf[l], a[a.DecCross[l].Out], BT);
            y = a[a.DecFf[l].Out];
        }
        RmsNorm.Forward(y, p.Value(_decFinal), a[a.DecOut], a[a.DecRstd], C, Config.LayerNormEpsilon, _pool);
        ReadOnlySpan<float> h = a[a.DecOut];
        if (Config.TieWordEmbeddings)
        {
            TensorPrimitives.Multiply(h, HeadScale, a[a.Scaled]);                                      // h·d_model^-0.5
            h = a[a.Scaled];
        }
        _head.Forward(h, a[a.Logits], BT);
    }

    private float HeadScale => 1f / MathF.Sqrt(Config.DModel);

    // One attention sub-layer: out = x + o(attention(q(n), k(kv), v(kv))), n = norm(x); kv = n for
    // self-attention, the encoder output for cross-attention.
    private void Attend(T5Activations a, int norm, IProjection q, IProjection k, IProjection v, IProjection o, T5AttentionRegions r,
        ReadOnlySpan<float> x, int B, int tq, ReadOnlySpan<float> kvSource, int tk, ReadOnlySpan<float> bias, SoftmaxMask mask)
    {
        int C = Config.DModel, NH = Config.NumHeads, dk = Config.DKv, I = Config.InnerDim;
        int rowsQ = B * tq, rowsK = B * tk;
        RmsNorm.Forward(x, Parameters.Value(norm), a[r.Ln], a[r.Rstd], C, Config.LayerNormEpsilon, _pool);
        ReadOnlySpan<float> kv = kvSource.IsEmpty ? a[r.Ln] : kvSource;
        var qRow = a[a.QRow][..(rowsQ * I)];
        var kRow = a[a.KRow][..(rowsK * I)];
        var vRow = a[a.VRow][..(rowsK * I)];
        q.Forward(a[r.Ln], qRow, rowsQ);
        k.Forward(kv, kRow, rowsK);
        v.Forward(kv, vRow, rowsK);
        Attention.ToHeads(qRow, a[r.Q], B, tq, NH, NH, dk, _pool);
        Attention.ToHeads(kRow, a[r.K], B, tk, NH, NH, dk, _pool);
        Attention.ToHeads(vRow, a[r.V], B, tk, NH, NH, dk, _pool);
        var heads = a[a.H0][..(B * NH * tq * dk)];
        T5AttentionCore.Forward(a[r.Q], a[r.K], a[r.V], bias, a[r.Att], heads, B, NH, tq, tk, dk, mask, _pool);
        Attention.FromHeads(heads, a[r.Ctx], B, tq, NH, NH, dk, _pool);
        x.CopyTo(a[r.Out]);
        o.Forward(a[r.Ctx], a[r.Out], rowsQ, accumulate: true);
    }

    // T5LayerFF: out = x + wo(relu(wi·n)) or x + wo(gelu_new(wi_0·n) ⊙ wi_1·n), n = norm(x).
    private void FeedForward(T5Activations a, Block L, T5FeedForwardRegions f, ReadOnlySpan<float> x, int rows)
    {
        RmsNorm.Forward(x, Parameters.Value(L.FfNorm), a[f.Ln], a[f.Rstd], Config.DModel, Config.LayerNormEpsilon, _pool);
        L.Wi.Forward(a[f.Ln], a[f.Pre], rows);
        if (L.Wi1 is { } wi1)
        {
            wi1.Forward(a[f.Ln], a[f.Up], rows);
            Activations.GeluForward(a[f.Pre], a[f.Act], _pool);
            Arithmetic.Multiply(a[f.Act], a[f.Up], a[f.Act], _pool);
        }
        else TensorPrimitives.Max(a[f.Pre], 0f, a[f.Act]);
        x.CopyTo(a[f.Out]);
        L.Wo.Forward(a[f.Act], a[f.Out], rows, accumulate: true);
    }

    // ---- backward ----

    private void BackwardDecoder(T5Activations a)
    {
        var p = Parameters;
        int B = a.B, S = a.S, T = a.T, C = Config.DModel, BT = B * T;
        var dres = a[a.DRes][..(BT * C)];
        var dln = a[a.DLn][..(BT * C)];
        a[a.DEnc].Clear();
        a[a.DDecBias].Clear();
        // logits = h·W_headᵀ, h = DecOut (·d_model^-0.5 when tied)
        _head.Backward(a[a.Logits], Config.TieWordEmbeddings ? a[a.Scaled] : a[a.DecOut], dln, BT);
        if (Config.TieWordEmbeddings) TensorPrimitives.Multiply(dln, HeadScale, dln);
        // DecOut = final_layer_norm(y_L)
        RmsNorm.Backward(dln, a[a.DecFf[^1].Out], p.Value(_decFinal), a[a.DecRstd], dres, p.GradientOrDiscard(_decFinal), C, false, _pool);
        for (int l = _decoder.Length - 1; l >= 0; l--)
        {
            var L = _decoder[l];
            BackwardFeedForward(a, L, a.DecFf[l], a[a.DecCross[l].Out], BT, dres, dln);
            BackwardAttend(a, L.CrossNorm, L.Qx!, L.Kx!, L.Vx!, L.Ox!, a.DecCross[l], a[a.DecSelf[l].Out], B, T, a[a.EncOut], S, default, dres, dln, a[a.DEnc]);
            ReadOnlySpan<float> input = l == 0 ? a[a.DecEmbedded] : a[a.DecFf[l - 1].Out];
            BackwardAttend(a, L.SelfNorm, L.Q, L.K, L.V, L.O, a.DecSelf[l], input, B, T, default, T, a[a.DDecBias], dres, dln, default);
        }
        // y = shared[decoder_input_ids]; bias_d = table_d[buckets]
        if (p.IsTrainable(_shared)) Embedding.Backward(a.DecIds, dres, p.Gradient(_shared), C, _pool);
        if (p.IsTrainable(_decTable)) T5RelativePosition.Backward(a[a.DDecBias], a.DecBuckets, Config.NumHeads, p.Gradient(_decTable));
    }

    private void BackwardEncoder(T5Activations a)
    {
        var p = Parameters;
        int B = a.B, S = a.S, C = Config.DModel, BS = B * S;
        var dres = a[a.DRes][..(BS * C)];
        var dln = a[a.DLn][..(BS * C)];
        a[a.DEncBias].Clear();
        // EncOut = final_layer_norm(x_L); its gradient is the sum over the decoder's cross-attention k and v
        RmsNorm.Backward(a[a.DEnc], a[a.EncFf[^1].Out], p.Value(_encFinal), a[a.EncRstd], dres, p.GradientOrDiscard(_encFinal), C, false, _pool);
        for (int l = _encoder.Length - 1; l >= 0; l--)
        {
            var L = _encoder[l];
            BackwardFeedForward(a, L, a.EncFf[l], a[a.EncSelf[l].Out], BS, dres, dln);
            ReadOnlySpan<float> input = l == 0 ? a[a.EncEmbedded] : a[a.EncFf[l - 1].Out];
            BackwardAttend(a, L.SelfNorm, L.Q, L.K, L.V, L.O, a.EncSelf[l], input, B, S, default, S, a[a.DEncBias], dres, dln, default);
        }
        if (p.IsTrainable(_shared)) Embedding.Backward(a.EncIds, dres, p.Gradient(_shared), C, _pool);
        if (p.IsTrainable(_encTable)) T5RelativePosition.Backward(a[a.DEncBias], a.EncBuckets, Config.NumHeads, p.Gradient(_encTable));
    }

    // Reverse of FeedForward: dres holds d(out) on entry and d(x) on exit (the residual path plus the norm's input gradient).
    private void BackwardFeedForward(T5Activations a, Block L, T5FeedForwardRegions f, ReadOnlySpan<float> x, int rows, Span<float> dres, Span<float> dln)
    {
        var p = Parameters;
        int F = Config.DFf;
        var dAct = a[a.DF0][..(rows * F)];
        L.Wo.Backward(dres, a[f.Act], dAct, rows);                            // out = x + act·Woᵀ
        if (L.Wi1 is { } wi1)
        {
            var dUp = a[a.DF1][..(rows * F)];
            Activations.GeluForward(a[f.Pre], dUp, _pool);                     // gelu_new(pre)
            Arithmetic.Multiply(dAct, dUp, dUp, _pool);                        // d(up) = dAct ⊙ gelu_new(pre)
            Arithmetic.Multiply(dAct, a[f.Up], dAct, _pool);                   // dAct ⊙ up
            Activations.GeluBackward(a[f.Pre], dAct, dAct, _pool);             // d(pre) = dAct ⊙ up ⊙ gelu_new'(pre)
            L.Wi.Backward(dAct, a[f.Ln], dln, rows);
            wi1.Backward(dUp, a[f.Ln], dln, rows, accumulateInput: true);
        }
        else
        {
            var pre = a[f.Pre];
            for (int i = 0; i < dAct.Length; i++) if (!(pre[i] > 0f)) dAct[i] = 0f;   // relu'
            L.Wi.Backward(dAct, a[f.Ln], dln, rows);
        }
        RmsNorm.Backward(dln, x, p.Value(L.FfNorm), a[f.Rstd], dres, p.GradientOrDiscard(L.FfNorm), Config.DModel, accumulate: true, _pool);
    }

    // Reverse of Attend. dres: d(out) in, d(x) out. Self-attention: the k, v gradients flow into the
    // norm's input with q's; cross-attention: into kvGradient (the encoder output's gradient), added.
    private void BackwardAttend(T5Activations a, int norm, IProjection q, IProjection k, IProjection v, IProjection o, T5AttentionRegions r,
        ReadOnlySpan<float> x, int B, int tq, ReadOnlySpan<float> kvSource, int tk, Span<float> biasGradient, Span<float> dres, Span<float> dln, Span<float> kvGradient)
    {
        var p = Parameters;
        int NH = Config.NumHeads, dk = Config.DKv, I = Config.InnerDim;
        int rowsQ = B * tq, rowsK = B * tk;
        var qRow = a[a.QRow][..(rowsQ * I)];
        var kRow = a[a.KRow][..(rowsK * I)];
        var vRow = a[a.VRow][..(rowsK * I)];
        o.Backward(dres, a[r.Ctx], qRow, rowsQ);                              // out = x + ctx·Woᵀ: d(ctx) into qRow (scratch)
        var dy = a[a.H0][..(B * NH * tq * dk)];
        Attention.ToHeads(qRow, dy, B, tq, NH, NH, dk, _pool);
        var dq = a[a.H1][..(B * NH * tq * dk)];
        var dkh = a[a.H2][..(B * NH * tk * dk)];
        var dv = a[a.H3][..(B * NH * tk * dk)];
        T5AttentionCore.Backward(dy, a[r.Q], a[r.K], a[r.V], a[r.Att], dq, dkh, dv, a[a.DAtt][..(B * NH * tq * tk)], biasGradient, B, NH, tq, tk, dk, _pool);
        Attention.FromHeads(dq, qRow, B, tq, NH, NH, dk, _pool);
        Attention.FromHeads(dkh, kRow, B, tk, NH, NH, dk, _pool);
        Attention.FromHeads(dv, vRow, B, tk, NH, NH, dk, _pool);
        q.Backward(qRow, a[r.Ln], dln, rowsQ);
        if (kvSource.IsEmpty)
        {
            k.Backward(kRow, a[r.Ln], dln, rowsK, accumulateInput: true);
            v.Backward(vRow, a[r.Ln], dln, rowsK, accumulateInput: true);
        }
        else
        {
            k.Backward(kRow, kvSource, kvGradient, rowsK, accumulateInput: true);
            v.Backward(vRow, kvSource, kvGradient, rowsK, accumulateInput: true);
        }
        RmsNorm.Backward(dln, x, p.Value(norm), a[r.Rstd], dres, p.GradientOrDiscard(norm), Config.DModel, accumulate: true, _pool);
    }
}

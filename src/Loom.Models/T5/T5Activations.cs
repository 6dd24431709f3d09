// T5's activations for one (B, S, T) — B pairs, S source and T target positions — each a region of
// one planned block (as the other families' plans). Encoder rows are B·S, decoder rows B·T; the
// scratch regions serve both stacks and are sized for the larger.
using Loom.Models.Plans;

namespace Loom.Models.T5;

/// <summary>One attention sub-layer's regions (self- or cross-attention).</summary>
internal sealed record T5AttentionRegions(
    ActivationRegion Ln, ActivationRegion Rstd,             // (B, Tq, C), (B, Tq): the T5LayerNorm in front
    ActivationRegion Q, ActivationRegion K, ActivationRegion V, // (B, NH, Tq, dk), (B, NH, Tk, dk) ×2
    ActivationRegion Att,                                    // (B, NH, Tq, Tk) probabilities
    ActivationRegion Ctx,                                    // (B, Tq, NH·dk) before o
    ActivationRegion Out);                                   // (B, Tq, C) the residual stream after this sub-layer

/// <summary>One feed-forward sub-layer's regions.</summary>
internal sealed record T5FeedForwardRegions(
    ActivationRegion Ln, ActivationRegion Rstd,             // (B, T, C), (B, T)
    ActivationRegion Pre, ActivationRegion Up,               // (B, T, F): wi (or wi_0) output; wi_1 output (gated only, else empty)
    ActivationRegion Act,                                    // (B, T, F): relu(pre) or gelu_new(pre) ⊙ up
    ActivationRegion Out);                                   // (B, T, C)

/// <summary>T5's planned activations for batches of B pairs of S source and T target tokens.</summary>
internal sealed class T5Activations : ActivationPlan
{
    public readonly int B, S, T;
    public bool HasTargets;
    public readonly int[] EncIds, DecIds, Targets;                   // (B, S), (B, T), (B, T)
    public readonly byte[] Keep;                                     // (B, S) 1 = real source token
    public readonly int[] EncBuckets, DecBuckets;                    // (S, S), (T, T)
    public readonly ActivationRegion EncEmbedded, DecEmbedded;       // (B, S, C), (B, T, C)
    public readonly ActivationRegion EncBias, DecBias;               // (NH, S, S), (NH, T, T)
    public readonly T5AttentionRegions[] EncSelf;                    // per encoder block
    public readonly T5FeedForwardRegions[] EncFf;
    public readonly ActivationRegion EncOut, EncRstd;                // (B, S, C) final_layer_norm, (B, S)
    public readonly T5AttentionRegions[] DecSelf, DecCross;          // per decoder block
    public readonly T5FeedForwardRegions[] DecFf;
    public readonly ActivationRegion DecOut, DecRstd;                // (B, T, C), (B, T)
    public readonly ActivationRegion Scaled;                         // (B, T, C) DecOut·d_model^-0.5 (tied head only)
    public readonly ActivationRegion Logits, Losses;                 // (B, T, V), (B, T)
    public readonly ActivationRegion QRow, KRow, VRow;               // (max(BS, BT), NH·dk); their gradients in backward
    public readonly ActivationRegion H0, H1, H2, H3;                 // (B, NH, max(S, T), dk)
    public readonly ActivationRegion DAtt;                           // (B, NH, max(S·S, T·T, T·S))
    public readonly ActivationRegion DEncBias, DDecBias;             // (NH, S, S), (NH, T, T)
    public readonly ActivationRegion DRes, DLn;                      // (max(BS, BT), C)
    public readonly ActivationRegion DEnc;                           // (B, S, C) gradient of the encoder output (from every cross-attention)
    public readonly ActivationRegion DF0, DF1;                       // (max(BS, BT), F)

    public T5Activations(T5Config c, int b, int s, int t)
    {
        B = b; S = s; T = t;
        long C = c.DModel, NH = c.NumHeads, dk = c.DKv, I = c.InnerDim, F = c.DFf, V = c.VocabSize;
        long BS = (long)b * s, BT = (long)b * t, R = Math.Max(BS, BT);
        bool gated = c.IsGated;
        T5AttentionRegions Attn(long rows, long tq, long tk) =>
            new(Add(rows * C), Add(rows), Add(b * NH * tq * dk), Add(b * NH * tk * dk), Add(b * NH * tk * dk), Add(b * NH * tq * tk), Add(rows * I), Add(rows * C));
        T5FeedForwardRegions Ff(long rows) => new(Add(rows * C), Add(rows), Add(rows * F), gated ? Add(rows * F) : default, Add(rows * F), Add(rows * C));

        EncEmbedded = Add(BS * C);
        EncBias = Add(NH * s * s);
        EncSelf = new T5AttentionRegions[c.NumLayers];
        EncFf = new T5FeedForwardRegions[c.NumLayers];
        for (int l = 0; l < c.NumLayers; l++) { EncSelf[l] = Attn(BS, s, s); EncFf[l] = Ff(BS); }
        EncOut = Add(BS * C); EncRstd = Add(BS);

        DecEmbedded = Add(BT * C);
        DecBias = Add(NH * t * t);
        int dl = c.NumDecoderLayers;
        DecSelf = new T5AttentionRegions[dl];
        DecCross = new T5AttentionRegions[dl];
        DecFf = new T5FeedForwardRegions[dl];
        for (int l = 0; l < dl; l++) { DecSelf[l] = Attn(BT, t, t); DecCross[l] = Attn(BT, t, s); DecFf[l] = Ff(BT); }
        DecOut = Add(BT * C); DecRstd = Add(BT);
        if (c.TieWordEmbeddings) Scaled = Add(BT * C);
        Logits = Add(BT * V); Losses = Add(BT);

        QRow = Add(R * I); KRow = Add(R * I); VRow = Add(R * I);
        long maxT = Math.Max(s, t);
        H0 = Add(b * NH * maxT * dk); H1 = Add(b * NH * maxT * dk); H2 = Add(b * NH * maxT * dk); H3 = Add(b * NH * maxT * dk);
        DAtt = Add(b * NH * Math.Max(Math.Max((long)s * s, (long)t * t), (long)t * s));
        DEncBias = Add(NH * s * s); DDecBias = Add(NH * t * t);
        DRes = Add(R * C); DLn = Add(R * C); DEnc = Add(BS * C);
        DF0 = Add(R * F); DF1 = Add(R * F);
        Allocate();
        EncIds = new int[BS]; DecIds = new int[BT]; Targets = new int[BT]; Keep = new byte[BS];
        EncBuckets = new int[(long)s * s]; DecBuckets = new int[(long)t * t];
    }
}

// BERT's activations for one (B, T), each a region of one planned block. Without activation
// checkpointing every layer has its own regions; with it, one scratch layer serves all and only
// each layer's output (X2) is kept per layer (as Gpt2Activations).
using Loom.Models.Plans;

namespace Loom.Models.Bert;

/// <summary>One encoder layer's activation regions.</summary>
internal sealed record BertLayerRegions(
    ActivationRegion Q, ActivationRegion K, ActivationRegion V,       // (B, NH, T, hd) each
    ActivationRegion Att,                                             // (B, NH, T, T)
    ActivationRegion Ctx,                                             // (B, T, C) attention output before its dense
    ActivationRegion R1, ActivationRegion X1,                         // (B, T, C) residual sum, its LayerNorm
    ActivationRegion Mean1, ActivationRegion Rstd1,                   // (B, T)
    ActivationRegion Inter, ActivationRegion InterAct,                // (B, T, I)
    ActivationRegion R2, ActivationRegion X2,                         // (B, T, C)
    ActivationRegion Mean2, ActivationRegion Rstd2)                   // (B, T)
{
    /// <summary>Dropout masks of the attention-output and output branches, (B, T, C) each; empty without dropout.</summary>
    public ActivationRegion MaskAttn { get; init; }
    public ActivationRegion MaskOut { get; init; }
    /// <summary>Dropout mask of the attention probabilities, (B, NH, T, T); empty without attention dropout.</summary>
    public ActivationRegion MaskProbs { get; init; }
}

/// <summary>BERT's planned activations for batches of B × T.</summary>
internal sealed class BertActivations : ActivationPlan
{
    public readonly int B, T;
    public bool HasTargets;
    public int Predicted;                                            // M rows the head saw (BertModel.LogitsForTargetsOnly); 0: all B·T
    public readonly int[] Ids, Types, Targets;
    public readonly int[] PredictedRows;                             // (M) their positions in B·T
    public readonly byte[] Keep;                                     // (B, T) 1 = real token
    public readonly ActivationRegion EmbSum, Emb;                    // (B, T, C) word + position + type, its LayerNorm
    public readonly ActivationRegion EmbMean, EmbRstd;               // (B, T)
    public readonly ActivationRegion QRow, KRow, VRow;               // (B, T, C); their gradients in backward
    public readonly BertLayerRegions[] Layers;
    public readonly ActivationRegion Cls, Pooled, DPooled;           // (B, C)
    public readonly ActivationRegion Losses;                         // (B, T)
    public readonly ActivationRegion DRes, DC0, DC1;                 // (B, T, C)
    public readonly ActivationRegion DI;                             // (B, T, I)
    public readonly ActivationRegion H0, H1, H2, H3;                 // (B, NH, T, hd)
    public readonly ActivationRegion DAtt;                           // (B, NH, T, T)
    public readonly ActivationRegion EmbMask, Branch;                // (B, T, C) embedding dropout mask, a branch before its dropout; empty without dropout
    public readonly ActivationRegion ProbsDropped;                   // (B, NH, T, T) P ⊙ mask; empty without attention dropout
    public readonly ActivationRegion PredictedHidden;                // (M ≤ B·T, C) hidden rows of the predicted positions
    public bool Dropped;                                             // the last forward applied hidden dropout
    public bool AttentionDropped;                                    // the last forward applied attention dropout

    public BertActivations(BertConfig c, int b, int t, bool dropout, bool checkpointing = false, bool attentionDropout = false)
    {
        B = b; T = t;
        long BT = (long)b * t, C = c.HiddenSize, I = c.IntermediateSize, NH = c.Heads;
        EmbSum = Add(BT * C); Emb = Add(BT * C); EmbMean = Add(BT); EmbRstd = Add(BT);
        QRow = Add(BT * C); KRow = Add(BT * C); VRow = Add(BT * C);
        Layers = new BertLayerRegions[c.Layers];
        BertLayerRegions PlanLayer() => new BertLayerRegions(Add(BT * C), Add(BT * C), Add(BT * C), Add(BT * NH * t), Add(BT * C), Add(BT * C), Add(BT * C), Add(BT), Add(BT),
                Add(BT * I), Add(BT * I), Add(BT * C), Add(BT * C), Add(BT), Add(BT))
            {
                MaskAttn = dropout ? Add(BT * C) : default,
                MaskOut = dropout ? Add(BT * C) : default,
                MaskProbs = attentionDropout ? Add(BT * NH * t) : default,
            };
        var scratch = checkpointing ? PlanLayer() : null;
        for (int l = 0; l < c.Layers; l++)
            Layers[l] = scratch is null ? PlanLayer() : scratch with { X2 = Add(BT * C) };
        Cls = Add(b * C); Pooled = Add(b * C); DPooled = Add(b * C);
        Losses = Add(BT);
        DRes = Add(BT * C); DC0 = Add(BT * C); DC1 = Add(BT * C); DI = Add(BT * I);
        H0 = Add(BT * C); H1 = Add(BT * C); H2 = Add(BT * C); H3 = Add(BT * C); DAtt = Add(BT * NH * t);
        if (dropout) { EmbMask = Add(BT * C); Branch = Add(BT * C); }
        if (attentionDropout) ProbsDropped = Add(BT * NH * t);
        PredictedHidden = Add(BT * C);
        Allocate();
        Ids = new int[BT]; Types = new int[BT]; Targets = new int[BT]; Keep = new byte[BT]; PredictedRows = new int[BT];
    }
}

// GPT-2's activations for one (B, T), each a region of one planned block. Without activation
// checkpointing every layer has its own regions; with it, one scratch layer serves all and only
// each layer's output (Residual3) is kept per layer.
using Loom.Models.Plans;

namespace Loom.Models.Gpt2;

/// <summary>One layer's activation regions.</summary>
internal sealed record Gpt2LayerRegions(
    ActivationRegion Ln1, ActivationRegion Ln1Mean, ActivationRegion Ln1Rstd,   // (B, T, C), (B, T), (B, T)
    ActivationRegion Q, ActivationRegion K, ActivationRegion V,                 // (B, NH, T, hs) each
    ActivationRegion Att,                                                       // (B, NH, T, T)
    ActivationRegion AttY, ActivationRegion Residual2,                          // (B, T, C)
    ActivationRegion Ln2, ActivationRegion Ln2Mean, ActivationRegion Ln2Rstd,   // (B, T, C), (B, T), (B, T)
    ActivationRegion Fch, ActivationRegion FchGelu,                             // (B, T, 4C)
    ActivationRegion Residual3)                                                 // (B, T, C)
{
    /// <summary>Dropout masks of the attention and MLP branches, (B, T, C) each; empty without dropout.</summary>
    public ActivationRegion MaskAttn { get; init; }
    public ActivationRegion MaskMlp { get; init; }
    /// <summary>Dropout mask of the attention probabilities, (B, NH, T, T); empty without attention dropout.</summary>
    public ActivationRegion MaskProbs { get; init; }
}

/// <summary>
/// What one model instance holds of GPT-2: its layer count (a pipeline stage's), attention heads and
/// their channels, MLP units (a tensor-parallel shard's 1/N of n_head, n_embd, 4·n_embd).
/// </summary>
internal sealed record Gpt2Widths(int Layers, int Heads, int AttentionChannels, int MlpUnits)
{
    public static Gpt2Widths Whole(Gpt2Config c) => new(c.Layers, c.Heads, c.Embedding, 4 * c.Embedding);
}

/// <summary>GPT-2's planned activations for batches of B × T.</summary>
internal sealed class Gpt2Activations : ActivationPlan
{
    public readonly int B, T;
    public bool HasTargets;
    public readonly int[] Ids, Targets;
    public readonly int[] Positions, FirstKey;                // (B, T) each: packed documents' position ids and first visible key
    public bool Packed;                                       // the last forward packed documents (Positions, FirstKey valid)
    public ReadOnlySpan<int> DocumentStarts => Packed ? FirstKey : default;
    public readonly ActivationRegion Encoded;                 // (B, T, C)
    public readonly ActivationRegion Qkv;                     // (B, T, 3C), rewritten per layer
    public readonly Gpt2LayerRegions[] Layers;
    public readonly ActivationRegion Lnf, LnfMean, LnfRstd;   // (B, T, C), (B, T), (B, T)
    public readonly ActivationRegion Logits;                  // (B, T, V); its gradient in backward; empty for a body (hidden states only)
    public readonly ActivationRegion Losses;                  // (B, T)
    public readonly ActivationRegion DResidual;               // (B, T, C) gradient of the residual stream
    public readonly ActivationRegion DLn;                     // (B, T, C) gradient at a LayerNorm output
    public readonly ActivationRegion DFch;                    // (B, T, 4C) gradient at the MLP hidden layer
    public readonly ActivationRegion DAttY;                   // (B, T, C) gradient at the attention output
    public readonly ActivationRegion DQkv;                    // (B, T, 3C) gradient at qkv
    public readonly ActivationRegion DAtt;                    // (B, NH, T, T) score gradients
    public readonly ActivationRegion H0, H1, H2, H3;          // (B, NH, T, hs) scratch
    public readonly ActivationRegion EmbMask;                 // (B, T, C) dropout mask of the embeddings; empty without dropout
    public readonly ActivationRegion Branch;                  // (B, T, C) a residual branch's output before its dropout; empty without dropout
    public readonly ActivationRegion ProbsDropped;            // (B, NH, T, T) P ⊙ mask; empty without attention dropout
    public bool Dropped;                                      // the last forward applied hidden dropout
    public bool AttentionDropped;                             // the last forward applied attention dropout

    // allocate: false makes a plan only, sizing memory before anything is allocated (Gpt2Model.PlanMemory).
    // widths: a tensor-parallel shard's or pipeline stage's part (default the whole model); attention
    // and MLP regions take its widths, the residual stream (B, T, C) is always whole.
    public Gpt2Activations(Gpt2Config cfg, int b, int t, bool checkpointing, bool dropout, bool allocate = true, bool attentionDropout = false, bool logits = true, Gpt2Widths? widths = null) : base(allocate)
    {
        B = b; T = t;
        widths ??= Gpt2Widths.Whole(cfg);
        long BT = (long)b * t, C = cfg.Embedding, NH = widths.Heads, A = widths.AttentionChannels, M = widths.MlpUnits, V = cfg.VocabSize;
        Encoded = Add(BT * C);
        Qkv = Add(BT * 3 * A);
        Gpt2LayerRegions PlanLayer() => new(Add(BT * C), Add(BT), Add(BT), Add(BT * A), Add(BT * A), Add(BT * A), Add(BT * NH * t),
            Add(BT * A), Add(BT * C), Add(BT * C), Add(BT), Add(BT), Add(BT * M), Add(BT * M), Add(BT * C))
        {
            MaskAttn = dropout ? Add(BT * C) : default,
            MaskMlp = dropout ? Add(BT * C) : default,
            MaskProbs = attentionDropout ? Add(BT * NH * t) : default,
        };
        Layers = new Gpt2LayerRegions[widths.Layers];
        var scratch = checkpointing ? PlanLayer() : null;
        for (int l = 0; l < widths.Layers; l++)
            Layers[l] = scratch is null ? PlanLayer() : scratch with { Residual3 = Add(BT * C) };
        Lnf = Add(BT * C); LnfMean = Add(BT); LnfRstd = Add(BT);
        // A body read through ForwardHidden (a classifier's) never computes LM logits: plan none.
        if (logits) { Logits = Add(BT * V); Losses = Add(BT); }
        DResidual = Add(BT * C);
        DLn = Add(BT * C);
        DFch = Add(BT * M);
        DAttY = Add(BT * A);
        DQkv = Add(BT * 3 * A);
        DAtt = Add(BT * NH * t);
        H0 = Add(BT * A); H1 = Add(BT * A); H2 = Add(BT * A); H3 = Add(BT * A);
        if (dropout) { EmbMask = Add(BT * C); Branch = Add(BT * C); }
        if (attentionDropout) ProbsDropped = Add(BT * NH * t);
        if (!allocate) { Ids = Targets = Positions = FirstKey = []; return; }   // a plan only, to size memory before allocating
        Allocate();
        Ids = new int[BT];
        Targets = new int[BT];
        Positions = new int[BT];
        FirstKey = new int[BT];
    }
}

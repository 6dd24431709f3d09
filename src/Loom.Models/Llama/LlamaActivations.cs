// Llama's activations for one (B, T), each a region of one planned block. Without activation
// checkpointing every layer has its own regions; with it, one scratch layer serves all and only
// each layer's output (Residual3) is kept per layer (as Gpt2Activations).
using Loom.Models.Plans;

namespace Loom.Models.Llama;

/// <summary>One layer's activation regions.</summary>
internal sealed record LlamaLayerRegions(
    ActivationRegion Ln1, ActivationRegion Rstd1,                     // (B, T, C), (B, T)
    ActivationRegion Q, ActivationRegion K, ActivationRegion V,       // (B, NH, T, hd) each, K and V repeated to every query head
    ActivationRegion Att,                                             // (B, NH, T, T)
    ActivationRegion Y,                                               // (B, T, NH·hd)
    ActivationRegion Residual2,                                       // (B, T, C)
    ActivationRegion Ln2, ActivationRegion Rstd2,                     // (B, T, C), (B, T)
    ActivationRegion Gate, ActivationRegion Up, ActivationRegion Act, // (B, T, I)
    ActivationRegion Residual3);                                      // (B, T, C)

/// <summary>Llama's planned activations for batches of B × T.</summary>
internal sealed class LlamaActivations : ActivationPlan
{
    public readonly int B, T;
    public bool HasTargets;
    public readonly int[] Ids, Targets;
    public readonly int[] Positions, FirstKey;                // (B, T) each: packed documents' position ids and first visible key
    public bool Packed;                                       // the last forward packed documents (Positions, FirstKey valid)
    public ReadOnlySpan<int> DocumentStarts => Packed ? FirstKey : default;
    public readonly ActivationRegion Embedded;                  // (B, T, C)
    public readonly ActivationRegion Cos, Sin;                  // (T, hd/2)
    public readonly ActivationRegion QRow, KRow, VRow;          // (B, T, NH·hd), (B, T, NKV·hd) ×2; their gradients in backward
    public readonly LlamaLayerRegions[] Layers;
    public readonly ActivationRegion Lnf, RstdF;                // (B, T, C), (B, T)
    public readonly ActivationRegion Logits, Losses;            // (B, T, V), (B, T); empty for a body (hidden states only)
    public readonly ActivationRegion DRes, DLn;                 // (B, T, C)
    public readonly ActivationRegion DI0, DI1;                  // (B, T, I)
    public readonly ActivationRegion H0, H1, H2, H3;            // (B, NH, T, hd)
    public readonly ActivationRegion DAtt;                      // (B, NH, T, T)

    // allocate: false makes a plan only, sizing memory before anything is allocated (LlamaModel.PlanMemory).
    public LlamaActivations(LlamaConfig c, int b, int t, bool checkpointing = false, bool allocate = true, bool logits = true) : base(allocate)
    {
        B = b; T = t;
        long BT = (long)b * t, C = c.HiddenSize, I = c.IntermediateSize, NH = c.Heads, hd = c.HeadDim, Q = NH * hd, KV = c.KvHeads * hd, V = c.VocabSize;
        Embedded = Add(BT * C);
        Cos = Add(t * hd / 2); Sin = Add(t * hd / 2);
        QRow = Add(BT * Q); KRow = Add(BT * KV); VRow = Add(BT * KV);
        Layers = new LlamaLayerRegions[c.Layers];
        LlamaLayerRegions PlanLayer() => new(Add(BT * C), Add(BT), Add(BT * Q), Add(BT * Q), Add(BT * Q), Add(BT * NH * t),
                Add(BT * Q), Add(BT * C), Add(BT * C), Add(BT), Add(BT * I), Add(BT * I), Add(BT * I), Add(BT * C));
        var scratch = checkpointing ? PlanLayer() : null;
        for (int l = 0; l < c.Layers; l++)
            Layers[l] = scratch is null ? PlanLayer() : scratch with { Residual3 = Add(BT * C) };
        Lnf = Add(BT * C); RstdF = Add(BT);
        if (logits) { Logits = Add(BT * V); Losses = Add(BT); }   // none for a body read through ForwardHidden
        DRes = Add(BT * C); DLn = Add(BT * C); DI0 = Add(BT * I); DI1 = Add(BT * I);
        H0 = Add(BT * Q); H1 = Add(BT * Q); H2 = Add(BT * Q); H3 = Add(BT * Q);
        DAtt = Add(BT * NH * t);
        if (!allocate) { Ids = Targets = Positions = FirstKey = []; return; }   // a plan only, to size memory before allocating
        Allocate();
        Ids = new int[BT];
        Targets = new int[BT];
        Positions = new int[BT];
        FirstKey = new int[BT];
    }
}

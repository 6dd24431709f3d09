// State the LoRA projections of one model share: training mode (dropout on or off), the dropout
// step that seeds their masks, and the dropout probability. The model's own ITrainingMode does not
// reach projections, so a LoRA model is switched with LoraAdapters.SetTraining (and the trainer, which
// sets ITrainingMode, does the same through LoraRuntime.Of).
namespace Loom.Models.Adapters;

/// <summary>Mode and dropout step shared by one model's LoRA projections.</summary>
public sealed class LoraRuntime
{
    /// <summary>A runtime for lora_dropout <paramref name="dropout"/> with masks seeded by <paramref name="seed"/>.</summary>
    public LoraRuntime(float dropout, int seed)
    {
        Dropout = dropout;
        Seed = seed;
    }

    /// <summary>lora_dropout.</summary>
    public float Dropout { get; }

    /// <summary>Seed of the masks.</summary>
    public int Seed { get; }

    /// <summary>True while training: masks are drawn. False (default) at inference, as model.eval().</summary>
    public bool Training { get; set; }

    /// <summary>
    /// False runs the frozen base alone (PEFT's disable_adapter()): DPO's reference model is the base
    /// under the adapter, so no second copy of the weights is kept. True (default) adds the low-rank update.
    /// </summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Training step the masks are drawn for; advance it after each Backward.</summary>
    public ulong Step { get; set; }
}

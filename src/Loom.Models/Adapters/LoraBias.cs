// PEFT's LoraConfig.bias: which biases train alongside the adapter (peft/tuners/lora/model.py,
// _mark_only_adapters_as_trainable).
namespace Loom.Models.Adapters;

/// <summary>Which biases train with a LoRA adapter, as PEFT's <c>bias</c> field.</summary>
public enum LoraBias
{
    /// <summary>"none": no bias trains (PEFT's default).</summary>
    None,
    /// <summary>"all": every bias of the model trains.</summary>
    All,
    /// <summary>"lora_only": the biases of the adapted projections train.</summary>
    LoraOnly,
}

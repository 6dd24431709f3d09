// The `sft:` section of a `loom finetune` configuration with task: sft (and the template DPO renders
// its prompts with).
namespace Loom.Training.Instructions;

/// <summary>Supervised instruction-tuning settings.</summary>
public sealed record SftSettings
{
    /// <summary>A Jinja chat-template file to use instead of the model's tokenizer_config.json chat_template (else ChatML).</summary>
    public string? ChatTemplate { get; init; }
}

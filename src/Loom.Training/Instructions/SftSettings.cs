// The `sft:` section of a `loom finetune` configuration with task: sft (and the template DPO renders
// its prompts with).
namespace Loom.Training.Instructions;

/// <summary>Supervised instruction-tuning settings.</summary>
public sealed record SftSettings
{
    /// <summary>A Jinja chat-template file to use instead of the model's tokenizer_config.json chat_template (else ChatML).</summary>
    public string? ChatTemplate { get; init; }

    /// <summary>
    /// Pack several conversations into each row of train.max_length positions, with position ids restarting
    /// at 0 per conversation and no attention between them (TRL's packing with padding_free; HF's
    /// DataCollatorWithFlattening). train.batch_size then counts packed rows. Default false.
    /// </summary>
    public bool Packing { get; init; }
}

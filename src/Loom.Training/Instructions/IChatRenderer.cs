// How a conversation becomes text: the model's chat template. Training does not depend on
// Loom.Inference (where the Jinja renderer lives), so it asks for this interface and the CLI wires
// Loom.Inference.Templates.ChatTemplate (the model's tokenizer_config.json chat_template, or ChatML)
// behind it; tests pass a hand-written ChatML renderer.
namespace Loom.Training.Instructions;

/// <summary>Renders messages as HF's apply_chat_template(messages, tokenize=False, add_generation_prompt=...).</summary>
public interface IChatRenderer
{
    /// <summary>The text of <paramref name="messages"/>; with <paramref name="addGenerationPrompt"/> followed by the assistant turn's opening.</summary>
    string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt);
}

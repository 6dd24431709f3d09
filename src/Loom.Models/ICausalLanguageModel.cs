// What the CLI (generate, eval) and the reference tests need from a causal language model family:
// the training contract (ILanguageModel) where the targets are the next tokens, so every position
// may attend only to earlier ones and the model can continue a text.

namespace Loom.Models;

/// <summary>A trainable causal language model (GPT-2, Llama, ...).</summary>
public interface ICausalLanguageModel : ILanguageModel
{
}

// ChatML (OpenAI's Chat Markup Language, as used by many open models and by Hugging Face's default
// template): every message is "<|im_start|>{role}\n{content}<|im_end|>\n", and the generation prompt
// is "<|im_start|>assistant\n". A model without <|im_start|>/<|im_end|> special tokens reads them as
// plain text; the reply ends at "<|im_end|>".
using System.Text;

namespace Loom.Inference.Chat;

/// <summary>The ChatML chat format.</summary>
public sealed class ChatMLFormatter : IChatFormatter
{
    /// <summary>The shared instance.</summary>
    public static ChatMLFormatter Instance { get; } = new();

    /// <inheritdoc/>
    public IReadOnlyList<string> StopSequences { get; } = ["<|im_end|>"];

    /// <inheritdoc/>
    public string Format(IReadOnlyList<ChatTurn> messages, bool addGenerationPrompt = true)
    {
        var sb = new StringBuilder();
        foreach (var m in messages) sb.Append("<|im_start|>").Append(m.Role).Append('\n').Append(m.Content).Append("<|im_end|>\n");
        if (addGenerationPrompt) sb.Append("<|im_start|>assistant\n");
        return sb.ToString();
    }
}

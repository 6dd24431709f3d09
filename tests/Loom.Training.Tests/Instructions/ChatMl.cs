// ChatML written out by hand (the template transformers used as its default, and Loom's when a model
// ships none): "<|im_start|>role\ncontent<|im_end|>\n" per message, "<|im_start|>assistant\n" as the
// generation prompt. Training's tests render through it without depending on Loom.Inference.
using Loom.Training.Instructions;

namespace Loom.Training.Tests.Instructions;

internal sealed class ChatMl : IChatRenderer
{
    public string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt) =>
        string.Concat(messages.Select(m => $"<|im_start|>{m.Role}\n{m.Content}<|im_end|>\n")) + (addGenerationPrompt ? "<|im_start|>assistant\n" : "");
}

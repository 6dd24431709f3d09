// The seam between a conversation and a prompt: a model's chat template renders the messages into
// the text the model was trained on. ChatML is the built-in fallback for a model without a template;
// the Hugging Face (Jinja) chat_template renderer plugs in here.
namespace Loom.Inference.Chat;

/// <summary>Renders a conversation into a prompt.</summary>
public interface IChatFormatter
{
    /// <summary>The prompt for <paramref name="messages"/>; with <paramref name="addGenerationPrompt"/> it ends where the assistant's reply begins.</summary>
    string Format(IReadOnlyList<ChatTurn> messages, bool addGenerationPrompt = true);

    /// <summary>Text that ends an assistant turn in this format (added to a request's stop strings).</summary>
    IReadOnlyList<string> StopSequences { get; }
}

// A Hugging Face chat template (Templates/ChatTemplate: the Jinja chat_template of tokenizer_config.json
// or a --chat-template file) behind the IChatFormatter seam, so the server, the batch runner and
// LoomChatClient render conversations exactly as transformers' apply_chat_template does. A reply ends at
// the model's end-of-sequence id (the engine's job); the template's eos_token text, and <|im_end|> when
// the template uses ChatML's markers, are also stop strings for tokenizers that read them as plain text.
using System.Text.Json.Nodes;
using Loom.Inference.Templates;

namespace Loom.Inference.Chat;

/// <summary>Renders conversations with a Jinja chat template.</summary>
public sealed class TemplateChatFormatter : IChatFormatter
{
    private readonly ChatTemplate _template;

    public TemplateChatFormatter(ChatTemplate template)
    {
        _template = template;
        var stops = new List<string>();
        if (template.SpecialTokens.TryGetValue("eos_token", out var eos) && eos is string e && e.Length > 0) stops.Add(e);
        if (template.Text.Contains("<|im_end|>", StringComparison.Ordinal) && !stops.Contains("<|im_end|>")) stops.Add("<|im_end|>");
        StopSequences = stops;
    }

    /// <summary>The template.</summary>
    public ChatTemplate Template => _template;

    /// <inheritdoc/>
    public IReadOnlyList<string> StopSequences { get; }

    /// <inheritdoc/>
    /// <exception cref="TemplateException">The template refused the conversation (raise_exception) or failed.</exception>
    public string Format(IReadOnlyList<ChatTurn> messages, bool addGenerationPrompt = true)
    {
        var array = new JsonArray();
        foreach (var m in messages) array.Add(new JsonObject { ["role"] = m.Role, ["content"] = m.Content });
        return _template.Render(array, new ChatTemplateOptions { AddGenerationPrompt = addGenerationPrompt });
    }
}

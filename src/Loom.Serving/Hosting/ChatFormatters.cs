// Which chat format a served model uses, as transformers picks it: a --chat-template file, else the
// model's own template (tokenizer_config.json's chat_template, else chat_template.jinja), else ChatML
// rendered as text (documented in docs/SERVING.md). A broken template fails at start naming the file.
using Loom.Inference.Chat;
using Loom.Inference.Templates;

namespace Loom.Serving.Hosting;

/// <summary>Chooses the <see cref="IChatFormatter"/> of a model directory.</summary>
public static class ChatFormatters
{
    /// <summary>The chat format for a model directory and an optional --chat-template file.</summary>
    public static IChatFormatter For(string modelDirectory, string? chatTemplatePath)
    {
        var template = ChatTemplate.ForModel(modelDirectory, chatTemplatePath);
        // No template anywhere: the built-in ChatML formatter (the same text as ChatTemplate.ChatML).
        if (chatTemplatePath == null && template.Text == ChatTemplate.ChatMLSource) return ChatMLFormatter.Instance;
        return new TemplateChatFormatter(template);
    }
}

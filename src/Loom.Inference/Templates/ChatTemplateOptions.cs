// What one rendering of a chat template receives besides the messages, as transformers' apply_chat_template
// passes it: add_generation_prompt, tools and documents (None when not given, so "tools is defined" holds
// and "tools is not none" does not, exactly as in HF), any extra template variables (HF's **kwargs, e.g.
// date_string, enable_thinking), and the clock behind strftime_now.
using System.Text.Json.Nodes;

namespace Loom.Inference.Templates;

/// <summary>Settings of one <see cref="ChatTemplate.Render(JsonArray, ChatTemplateOptions?)"/> call.</summary>
public sealed record ChatTemplateOptions
{
    /// <summary>Ask the template to open the assistant's turn (HF's add_generation_prompt). Default false.</summary>
    public bool AddGenerationPrompt { get; init; }

    /// <summary>Tool (function) schemas, OpenAI's shape; null renders as Python's None. Default null.</summary>
    public JsonArray? Tools { get; init; }

    /// <summary>Documents for retrieval-augmented templates; null renders as None. Default null.</summary>
    public JsonArray? Documents { get; init; }

    /// <summary>Extra template variables; they override the special tokens of the same name. Default none.</summary>
    public IReadOnlyDictionary<string, JsonNode?>? Variables { get; init; }

    /// <summary>The clock of strftime_now (local time, as HF's datetime.now()). Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;
}

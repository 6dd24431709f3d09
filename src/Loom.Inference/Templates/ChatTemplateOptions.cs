// What one rendering of a chat template receives besides the messages, as transformers' apply_chat_template
// passes it: add_generation_prompt, tools and documents (None when not given, so "tools is defined" holds
// and "tools is not none" does not, exactly as in HF), any extra template variables (HF's **kwargs, e.g.
// date_string, enable_thinking), and the clock behind strftime_now.
// It also holds the render's resource limits. Templates come from downloaded tokenizer_config.json files
// and a server renders one per request, so a hostile template ('x' * 2000000000, two nested range(99999)
// loops, a macro calling itself twice per level) must fail fast with a TemplateException instead of
// hanging or exhausting memory. jinja2's sandbox bounds only range() (MAX_RANGE); these bounds are ours.
// The defaults are far above what real templates need: the largest fixture conversation renders to a few
// kB in a few hundred steps.
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

    /// <summary>
    /// The most characters the rendered prompt (and any macro or {% set %} block's text) may hold. Default
    /// 4,000,000 (about a million tokens, above any model's context).
    /// </summary>
    public int MaxOutputLength { get; init; } = 4_000_000;

    /// <summary>
    /// The most characters of a string, or items of a list, that one operation (repetition, +, ~, a filter
    /// or method) may produce; checked before the value is built where the size is known in advance
    /// (repetition, concatenation). Default 4,000,000.
    /// </summary>
    public int MaxValueLength { get; init; } = 4_000_000;

    /// <summary>
    /// The most steps one render may take: each loop iteration (and each item a loop's if-filter tests),
    /// each macro call, each item range() produces, and each 1,024 characters or items built by repetition
    /// or concatenation count one. Default 1,000,000 (a second or two of one core); the fixtures' real
    /// templates take at most a few hundred per conversation.
    /// </summary>
    public long MaxSteps { get; init; } = 1_000_000;
}

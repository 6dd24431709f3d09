// Settings of a sliding-window perplexity run (Hugging Face, "Perplexity of fixed-length models",
// https://huggingface.co/docs/transformers/perplexity): windows of Context tokens start every Stride
// tokens; each window scores only the tokens the previous one did not.
using Loom.Core.Validation;

namespace Loom.Evaluation.Perplexity;

/// <summary>Window length, stride and batching of <see cref="SlidingWindowPerplexity"/>.</summary>
public sealed record PerplexityOptions
{
    /// <summary>Tokens per window; 0 takes the model's context length (n_positions / max_position_embeddings).</summary>
    public int Context { get; init; }

    /// <summary>Tokens between window starts; 0 takes <see cref="Context"/> (non-overlapping windows). At most the context.</summary>
    public int Stride { get; init; }

    /// <summary>Windows of equal length per forward pass. Batching changes speed, not the result.</summary>
    public int BatchSize { get; init; } = 1;

    /// <summary>Checks the settings against a model's context; <paramref name="name"/> maps a property to the name the user typed.</summary>
    public (int Context, int Stride) Resolve(int modelContext, Func<string, string>? name = null)
    {
        name ??= p => p;
        Setting.AtLeast(name(nameof(BatchSize)), BatchSize, 1);
        Setting.AtLeast(name(nameof(Context)), Context, 0);
        Setting.AtLeast(name(nameof(Stride)), Stride, 0);
        int context = Context == 0 ? modelContext : Context;
        if (context < 2) throw Setting.Error(name(nameof(Context)), context, "at least 2 (a window scores the tokens after its first)");
        if (context > modelContext) throw Setting.Error(name(nameof(Context)), context, $"at most the model's context length {modelContext}");
        int stride = Stride == 0 ? context : Stride;
        if (stride > context) throw Setting.Error(name(nameof(Stride)), stride, $"at most the context {context} (a larger stride would leave tokens unscored)");
        return (context, stride);
    }
}

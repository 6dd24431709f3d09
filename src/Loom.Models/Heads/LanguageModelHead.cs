// The causal LM head: logits = hidden·W_vocabᵀ, one projection (path "lm_head") from C to V. GPT-2
// ties it to wte (its weight is the embedding table), Llama has its own lm_head.weight; either way
// it is a projection chosen through ModelOptions, so it can be adapted or quantized like any other.
using Loom.Models.Projections;

namespace Loom.Models.Heads;

/// <summary>Hidden states (N, C) to vocabulary logits (N, V).</summary>
public sealed class LanguageModelHead : IDisposable
{
    private readonly IProjection _projection;

    public LanguageModelHead(IProjection projection) => _projection = projection;

    /// <summary>The projection (C → V).</summary>
    public IProjection Projection => _projection;

    /// <summary>logits (N, V) = hidden (N, C)·Wᵀ.</summary>
    public void Forward(ReadOnlySpan<float> hidden, Span<float> logits, int rows) => _projection.Forward(hidden, logits, rows);

    /// <summary>dhidden (N, C) = dlogits·W; the weight's gradient when it trains.</summary>
    public void Backward(ReadOnlySpan<float> logitsGradient, ReadOnlySpan<float> hidden, Span<float> hiddenGradient, int rows) =>
        _projection.Backward(logitsGradient, hidden, hiddenGradient, rows);

    public void Dispose() => _projection.Dispose();
}

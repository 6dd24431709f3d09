// A body whose own module tree ends in a pooler (Hugging Face's BertModel.pooler: tanh(hidden[:, 0]·Wpᵀ + b)).
// The pooler exists once, in the body, as HF has it; a head on top (BertForSequenceClassification's
// dropout → classifier) reads Pooled and hands back its gradient, so a projection factory aimed at
// the pooler's module path is called once, and its weights are used by one projection.
namespace Loom.Models;

/// <summary>A body that also computes a pooled output per sequence.</summary>
public interface IPooledHiddenStateModel : IHiddenStateModel
{
    /// <summary>The pooled output of the last <see cref="IHiddenStateModel.ForwardHidden"/>, (B, C).</summary>
    ReadOnlySpan<float> Pooled { get; }

    /// <summary>
    /// Backward of the pooler alone: adds the pooler's parameter gradients for <paramref name="pooledGradient"/>
    /// (B, C), and writes the gradient with respect to the pooled hidden rows (each sequence's first
    /// token) into <paramref name="firstTokenGradient"/> (B, C).
    /// </summary>
    void BackwardPooled(ReadOnlySpan<float> pooledGradient, Span<float> firstTokenGradient);
}

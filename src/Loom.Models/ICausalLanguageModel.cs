// What the trainer and the reference tests need from any causal language model family.
using Loom.Models.Parameters;

namespace Loom.Models;

/// <summary>A trainable causal language model (GPT-2, Llama, ...).</summary>
public interface ICausalLanguageModel : IDisposable
{
    /// <summary>Parameters and gradients.</summary>
    ParameterSet Parameters { get; }

    /// <summary>Forward on B·T ids; with targets returns the mean loss over targets ≠ −100, else NaN.</summary>
    float Forward(ReadOnlySpan<int> ids, ReadOnlySpan<int> targets, int batch, int time);

    /// <summary>Adds the gradient of lossScale × the last mean loss to the gradients.</summary>
    void Backward(float lossScale = 1f);

    /// <summary>Logits of the last forward, (B·T, V).</summary>
    ReadOnlySpan<float> Logits { get; }
}

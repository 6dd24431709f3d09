// The body of a transformer (Hugging Face's GPT2Model, LlamaModel, BertModel without heads): token
// ids in, final hidden states out (after the final norm), and the backward from hidden-state
// gradients. Heads (LM, masked LM, sequence classification) and losses are separate types on top.
using Loom.Models.Parameters;

namespace Loom.Models;

/// <summary>A transformer body exposing its final hidden states, forward and backward.</summary>
public interface IHiddenStateModel : IDisposable
{
    /// <summary>Width C of a hidden state.</summary>
    int HiddenSize { get; }

    /// <summary>Parameters (the body's and its built-in heads').</summary>
    ParameterSet Parameters { get; }

    /// <summary>Runs the body; returns the final hidden states (B·T, C), valid until the next forward.</summary>
    ReadOnlySpan<float> ForwardHidden(in TokenBatch batch);

    /// <summary>
    /// Adds to the trainable parameters' gradients the backward of the last <see cref="ForwardHidden"/>
    /// given the loss's gradient with respect to its hidden states, (B·T, C).
    /// </summary>
    void BackwardHidden(ReadOnlySpan<float> hiddenGradient);
}

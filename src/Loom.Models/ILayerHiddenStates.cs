// A capability a body may offer: the hidden states after only its first L layers — what bert_score's
// num_layers selects (bert_score/utils.py get_model truncates the encoder's module list to its first
// num_layers layers and reads last_hidden_state; L = 0 is the embeddings' output). For BERT (post-LN,
// no final norm) that is Hugging Face's hidden_states[L]. Inference only: no backward follows a
// truncated forward. Shared code asks with `body as ILayerHiddenStates`, never with a family test.
namespace Loom.Models;

/// <summary>Forward through the first L layers of a body.</summary>
public interface ILayerHiddenStates
{
    /// <summary>Layers of the body (the largest L).</summary>
    int LayerCount { get; }

    /// <summary>Runs the embeddings and the first <paramref name="layers"/> layers; returns their output (B·T, C), valid until the next forward.</summary>
    ReadOnlySpan<float> ForwardHidden(in TokenBatch batch, int layers);
}

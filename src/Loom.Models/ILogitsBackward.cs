// A capability of causal language models for losses that live outside the model (DPO, distillation):
// the caller runs Forward (with or without targets), overwrites the logits with ∂L/∂logits in place —
// the same buffer the model's own cross-entropy backward overwrites — and calls BackwardFromLogits,
// which runs the head's and the body's backward exactly as Backward does after its fused loss.
// Asked for with `model as ILogitsBackward`, never by family.
namespace Loom.Models;

/// <summary>Backward from a caller-computed gradient with respect to the last forward's logits.</summary>
public interface ILogitsBackward
{
    /// <summary>The last forward's logits (B·T, V), writable: overwrite them with ∂L/∂logits before <see cref="BackwardFromLogits"/>.</summary>
    Span<float> MutableLogits { get; }

    /// <summary>Adds to the trainable parameters' gradients the backward of the last forward, given ∂L/∂logits in <see cref="MutableLogits"/>.</summary>
    void BackwardFromLogits();
}

// What the training loop needs from an encoder-decoder model (T5's T5ForConditionalGeneration):
// a teacher-forced forward whose decoder reads the encoded sources through cross-attention. The
// loss is the same mean token cross-entropy over labels ≠ −100 as ILanguageModel.Forward, and the
// model's ILanguageModel.Backward differentiates the last call of either.
using Loom.Models;

namespace Loom.Training.Loop;

/// <summary>A trainable language model conditioned on a source sequence (encoder-decoder).</summary>
public interface ISourceConditionedModel : ILanguageModel
{
    /// <summary>
    /// Encodes <paramref name="sources"/>, runs the decoder on <paramref name="decoderIds"/> (B·T, the
    /// labels shifted right behind the decoder start token) and returns the mean cross-entropy over
    /// <paramref name="labels"/> ≠ −100 (NaN when labels is empty).
    /// </summary>
    float Forward(SourceBatch sources, ReadOnlySpan<int> decoderIds, ReadOnlySpan<int> labels, int batch, int time);
}

// Teacher forcing for encoder-decoder models: the decoder reads the labels shifted one place right
// behind the decoder start token (T5: the pad id, 0), so position t predicts label t from labels < t.
// Hugging Face's shift_tokens_right (modeling_t5.T5PreTrainedModel._shift_right): ignored labels
// (−100) become the pad id in the decoder inputs.
namespace Loom.Training.Seq2Seq;

/// <summary>Decoder inputs from labels.</summary>
public static class TeacherForcing
{
    /// <summary>Labels that carry no loss (PyTorch's ignore_index).</summary>
    public const int IgnoreIndex = Loom.Core.Kernels.CrossEntropy.DefaultIgnoreIndex;

    /// <summary>
    /// Writes each row of <paramref name="labels"/> (B rows of <paramref name="time"/>) shifted right
    /// into <paramref name="decoderInputs"/>, <paramref name="decoderStartId"/> first, −100 → <paramref name="padId"/>.
    /// </summary>
    public static void ShiftRight(ReadOnlySpan<int> labels, int time, int decoderStartId, int padId, Span<int> decoderInputs)
    {
        if (time < 1 || labels.Length % time != 0) throw new ArgumentException($"labels hold {labels.Length} ids, not whole rows of {time}.");
        if (decoderInputs.Length != labels.Length) throw new ArgumentException($"decoderInputs must hold {labels.Length} ids like labels; got {decoderInputs.Length}.");
        for (int r = 0; r < labels.Length; r += time)
        {
            decoderInputs[r] = decoderStartId;
            for (int t = 1; t < time; t++)
            {
                int previous = labels[r + t - 1];
                decoderInputs[r + t] = previous == IgnoreIndex ? padId : previous;
            }
        }
    }
}

// A capability a causal family may offer: a forward pass whose head runs only on chosen positions.
// Scoring (the harness's log-likelihoods, lm-eval's loglikelihood) reads the logits of a few
// continuation positions per sequence, yet a full Forward multiplies every position's hidden state
// by the (V, C) head — for GPT-2 124M that is 38.6 M of the ~124 M multiply-adds per position, all
// thrown away for the context. Here the body runs as usual, the chosen rows of its final hidden
// states are gathered, and only they reach the head. Shared code asks for it with
// `model as ISelectedLogits`, never with a family test, and falls back to Forward + Logits.
namespace Loom.Models;

/// <summary>Forward with the LM head computed only for selected positions.</summary>
public interface ISelectedLogits
{
    /// <summary>Ids the head scores.</summary>
    int VocabularySize { get; }

    /// <summary>
    /// Runs the body on <paramref name="batch"/> (right-padded, as a causal family reads it) and writes
    /// the logits of position <c>rows[i]</c> (an index b·T + t into the batch) to row i of
    /// <paramref name="logits"/>, (R, V). Equal to rows of <see cref="ILanguageModel.Logits"/> after
    /// the same Forward.
    /// </summary>
    void ForwardSelected(in TokenBatch batch, ReadOnlySpan<int> rows, Span<float> logits);
}

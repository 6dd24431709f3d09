// What one encoder-decoder generation produced.
namespace Loom.Inference.Seq2Seq;

/// <summary>The generated target ids (without the decoder start token, &lt;/s&gt; or padding) and how generation ended.</summary>
/// <param name="Tokens">Generated ids, in order.</param>
/// <param name="EndedWithEos">True when the model produced &lt;/s&gt;; false when max_new_tokens ran out.</param>
/// <param name="Score">Beam search: the hypothesis score (summed log-probability / length^length_penalty, length counting the start token); greedy and sampling: the summed log-probability of the chosen tokens (&lt;/s&gt; included) under the model.</param>
public sealed record Seq2SeqResult(int[] Tokens, bool EndedWithEos, float Score);

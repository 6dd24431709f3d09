// BERTScore over a Loom encoder: each text's token ids (with the tokenizer's [CLS] ... [SEP], as
// bert_score encodes) run through any IHiddenStateModel body (BERT's hidden states; a causal family's
// body works too), one sequence per forward, and the final hidden states are matched greedily by
// BertScore.Score. Special-token positions (first and last when HasSpecialTokens) weigh 0, as bert_score's
// idf dictionary gives [CLS] and [SEP]; with idf, the other weights come from BertScore.Idf.
using Loom.Models;

namespace Loom.Evaluation.Metrics;

/// <summary>BERTScore with a Loom encoder.</summary>
public sealed class BertScorer(IHiddenStateModel encoder, bool hasSpecialTokens = true)
{
    private readonly IHiddenStateModel _encoder = encoder ?? throw new ArgumentNullException(nameof(encoder));

    /// <summary>Final hidden states (T, C) of one token sequence, copied.</summary>
    public float[] Embed(IReadOnlyList<int> ids)
    {
        if (ids.Count == 0) throw new ArgumentException("A text encoded to no tokens.", nameof(ids));
        var array = ids as int[] ?? ids.ToArray();
        return _encoder.ForwardHidden(new TokenBatch(array, 1, array.Length)).ToArray();
    }

    /// <summary>P, R, F1 of each candidate against its reference; <paramref name="idf"/> null weighs every (non-special) token 1.</summary>
    public List<BertScore.Result> Score(IReadOnlyList<IReadOnlyList<int>> candidates, IReadOnlyList<IReadOnlyList<int>> references, Func<int, double>? idf = null)
    {
        if (candidates.Count != references.Count)
            throw new ArgumentException($"{candidates.Count} candidates but {references.Count} references; they must pair up.");
        var results = new List<BertScore.Result>(candidates.Count);
        for (int i = 0; i < candidates.Count; i++)
            results.Add(BertScore.Score(Embed(candidates[i]), Embed(references[i]), _encoder.HiddenSize, Weights(candidates[i], idf), Weights(references[i], idf)));
        return results;
    }

    private double[] Weights(IReadOnlyList<int> ids, Func<int, double>? idf)
    {
        var w = new double[ids.Count];
        for (int i = 0; i < w.Length; i++) w[i] = idf?.Invoke(ids[i]) ?? 1.0;
        if (hasSpecialTokens && w.Length >= 2) { w[0] = 0; w[^1] = 0; }
        return w;
    }
}

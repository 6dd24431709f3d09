// BERTScore over a Loom encoder: each text's token ids (with the tokenizer's [CLS] ... [SEP], as
// bert_score encodes) run through any IHiddenStateModel body (BERT's hidden states; a causal family's
// body works too), one sequence per forward, and the final hidden states are matched greedily by
// BertScore.Score. Special-token positions (first and last when HasSpecialTokens) weigh 0, as bert_score's
// idf dictionary gives [CLS] and [SEP]; with idf, the other weights come from BertScore.Idf.
// With a layer L, the embeddings are layer L's output instead of the last layer's (bert_score's
// num_layers, which truncates the encoder to its first L layers; L = 0: the embedding output), from a
// body offering ILayerHiddenStates.
using Loom.Models;

namespace Loom.Evaluation.Metrics;

/// <summary>BERTScore with a Loom encoder.</summary>
public sealed class BertScorer(IHiddenStateModel encoder, bool hasSpecialTokens = true, int? layer = null)
{
    private readonly IHiddenStateModel _encoder = encoder ?? throw new ArgumentNullException(nameof(encoder));
    private readonly int? _layer = layer;
    private readonly ILayerHiddenStates? _layers = layer is null ? null : CheckLayer(encoder, layer.Value);

    /// <summary>The layer whose output is matched (null: the last).</summary>
    public int? Layer => _layer;

    private static ILayerHiddenStates CheckLayer(IHiddenStateModel encoder, int layer)
    {
        var body = encoder as ILayerHiddenStates
            ?? throw new NotSupportedException($"A BERTScore layer was chosen ({layer}), but this encoder ({encoder.GetType().Name}) cannot stop after a layer; leave the layer out to use its last hidden states, or use a BERT encoder.");
        if (layer < 0 || layer > body.LayerCount)
            throw new ArgumentOutOfRangeException(nameof(layer), layer, $"The encoder has {body.LayerCount} layers; choose a layer from 0 (the embeddings) to {body.LayerCount}.");
        return body;
    }

    /// <summary>Hidden states (T, C) of one token sequence (the final ones, or the chosen layer's), copied.</summary>
    public float[] Embed(IReadOnlyList<int> ids)
    {
        if (ids.Count == 0) throw new ArgumentException("A text encoded to no tokens.", nameof(ids));
        var array = ids as int[] ?? ids.ToArray();
        var batch = new TokenBatch(array, 1, array.Length);
        return (_layers is null ? _encoder.ForwardHidden(batch) : _layers.ForwardHidden(batch, _layer!.Value)).ToArray();
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

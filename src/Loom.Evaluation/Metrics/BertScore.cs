// BERTScore (Zhang et al. 2020, "BERTScore: Evaluating Text Generation with BERT", §3) as the
// bert_score package's greedy_cos_idf computes it, over any encoder's token embeddings: embeddings
// L2-normalised per token; each candidate token's precision is its largest cosine similarity with any
// reference token, each reference token's recall its largest with any candidate token (special tokens
// included in the max, as bert_score keeps [CLS]/[SEP] in the embeddings); P and R are weighted means
// with the weights normalised to sum 1 (idf, or 1 — bert_score gives [CLS] and [SEP] weight 0);
// F = 2PR/(P+R). Idf: log((M + 1) / (df + 1)) over M reference documents, log(M + 1) for an unseen id.
namespace Loom.Evaluation.Metrics;

/// <summary>BERTScore's greedy matching of token embeddings and its idf weights.</summary>
public static class BertScore
{
    /// <summary>Precision, recall and F1 of one candidate against one reference.</summary>
    public readonly record struct Result(double Precision, double Recall, double F1);

    /// <summary>
    /// Greedy cosine matching: <paramref name="candidate"/> (m, d) and <paramref name="reference"/> (n, d)
    /// row-major; weights per token (m and n; empty: all 1). Buffers are not modified.
    /// </summary>
    public static Result Score(ReadOnlySpan<float> candidate, ReadOnlySpan<float> reference, int dimension,
        ReadOnlySpan<double> candidateWeights = default, ReadOnlySpan<double> referenceWeights = default)
    {
        if (dimension < 1) throw new ArgumentException($"Embedding width must be at least 1; got {dimension}.", nameof(dimension));
        if (candidate.Length % dimension != 0 || reference.Length % dimension != 0 || candidate.IsEmpty || reference.IsEmpty)
            throw new ArgumentException($"Embeddings must be non-empty whole rows of {dimension}; got {candidate.Length} and {reference.Length} values.");
        int m = candidate.Length / dimension, n = reference.Length / dimension;
        if (!candidateWeights.IsEmpty && candidateWeights.Length != m) throw new ArgumentException($"{candidateWeights.Length} candidate weights for {m} tokens.");
        if (!referenceWeights.IsEmpty && referenceWeights.Length != n) throw new ArgumentException($"{referenceWeights.Length} reference weights for {n} tokens.");
        var c = Normalized(candidate, m, dimension);
        var r = Normalized(reference, n, dimension);
        var bestC = new double[m];
        var bestR = new double[n];
        Array.Fill(bestC, double.NegativeInfinity);
        Array.Fill(bestR, double.NegativeInfinity);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int d = 0; d < dimension; d++) s += c[i * dimension + d] * r[j * dimension + d];
                if (s > bestC[i]) bestC[i] = s;
                if (s > bestR[j]) bestR[j] = s;
            }
        double p = WeightedMean(bestC, candidateWeights), rec = WeightedMean(bestR, referenceWeights);
        return new Result(p, rec, p + rec > 0 ? 2 * p * rec / (p + rec) : 0);
    }

    /// <summary>bert_score's get_idf_dict over the reference token-id sequences; <paramref name="zeroIds"/> (e.g. [CLS], [SEP]) get 0.</summary>
    public static Func<int, double> Idf(IEnumerable<IReadOnlyList<int>> references, params int[] zeroIds)
    {
        var df = new Dictionary<int, int>();
        int documents = 0;
        foreach (var ids in references)
        {
            documents++;
            foreach (var id in ids.Distinct()) df[id] = df.GetValueOrDefault(id) + 1;
        }
        double unseen = Math.Log(documents + 1);
        var zero = new HashSet<int>(zeroIds);
        return id => zero.Contains(id) ? 0 : df.TryGetValue(id, out int c) ? Math.Log((documents + 1.0) / (c + 1)) : unseen;
    }

    private static double[] Normalized(ReadOnlySpan<float> x, int rows, int d)
    {
        var y = new double[rows * d];
        for (int i = 0; i < rows; i++)
        {
            double norm = 0;
            for (int k = 0; k < d; k++) norm += (double)x[i * d + k] * x[i * d + k];
            norm = Math.Sqrt(norm);
            for (int k = 0; k < d; k++) y[i * d + k] = x[i * d + k] / norm;
        }
        return y;
    }

    private static double WeightedMean(double[] values, ReadOnlySpan<double> weights)
    {
        if (weights.IsEmpty) return values.Average();
        double sum = 0, total = 0;
        for (int i = 0; i < values.Length; i++) { sum += values[i] * weights[i]; total += weights[i]; }
        if (total == 0) throw new ArgumentException("Every token weight is 0 (only special tokens?); BERTScore needs at least one weighted token.");
        return sum / total;
    }
}

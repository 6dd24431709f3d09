// Semantic-search retrieval metrics. nDCG is scikit-learn 1.2's ndcg_score (Järvelin & Kekäläinen
// 2002): discount 1/log2(rank + 1), cut at k, ties in the scores averaged (sklearn's default
// ignore_ties=False: each tied group shares the mean gain of its members over the sum of its
// discounts), normalised by the ideal DCG of the true relevances, 0 for a query with no relevant
// document, averaged over queries. Recall@k (the fraction of a query's relevant documents in its top
// k) and MRR (mean of 1/rank of the first relevant document, 0 when none is ranked within k) are the
// BEIR / MS MARCO definitions, on rankings given best first.
namespace Loom.Evaluation.Metrics;

/// <summary>nDCG (as scikit-learn), recall@k and mean reciprocal rank.</summary>
public static class RetrievalMetrics
{
    /// <summary>
    /// sklearn.metrics.ndcg_score(y_true, y_score, k): <paramref name="relevance"/> and <paramref name="scores"/>
    /// are (queries, documents) row-major; relevances must be non-negative; k null or ≥ 1 keeps every rank.
    /// </summary>
    public static double Ndcg(ReadOnlySpan<double> relevance, ReadOnlySpan<double> scores, int documents, int? k = null)
    {
        if (documents < 2) throw new ArgumentException($"nDCG needs at least 2 documents per query (as scikit-learn); got {documents}.", nameof(documents));
        if (relevance.Length != scores.Length) throw new ArgumentException($"relevance has {relevance.Length} values and scores {scores.Length}; they must have the same (queries × documents) shape.");
        if (relevance.Length == 0 || relevance.Length % documents != 0) throw new ArgumentException($"{relevance.Length} values do not make whole rows of {documents} documents.");
        if (k is < 1) throw new ArgumentException($"k must be at least 1; got {k}.", nameof(k));
        foreach (var r in relevance) if (r < 0 || !double.IsFinite(r)) throw new ArgumentException($"nDCG relevances must be finite and non-negative; got {r}.", nameof(relevance));
        var discount = new double[documents];
        for (int i = 0; i < documents; i++) discount[i] = k is { } kk && i >= kk ? 0 : 1 / (Math.Log(i + 2) / Math.Log(2));
        var cumsum = new double[documents];
        double acc = 0;
        for (int i = 0; i < documents; i++) cumsum[i] = acc += discount[i];
        int queries = relevance.Length / documents;
        double total = 0;
        for (int q = 0; q < queries; q++)
        {
            var t = relevance.Slice(q * documents, documents);
            var s = scores.Slice(q * documents, documents);
            double ideal = IdealDcg(t, discount);
            total += ideal == 0 ? 0 : TieAveragedDcg(t, s, cumsum) / ideal;
        }
        return total / queries;
    }

    /// <summary>Mean over queries of |relevant ∩ top k| / |relevant|; queries without relevant documents are an error.</summary>
    public static double RecallAtK(IReadOnlyList<IReadOnlyList<string>> rankings, IReadOnlyList<IReadOnlySet<string>> relevant, int k)
    {
        Check(rankings, relevant, k);
        double sum = 0;
        for (int q = 0; q < rankings.Count; q++)
        {
            if (relevant[q].Count == 0) throw new ArgumentException($"Query {q} has no relevant document; recall is undefined for it.");
            int hits = rankings[q].Take(k).Distinct().Count(relevant[q].Contains);
            sum += (double)hits / relevant[q].Count;
        }
        return sum / rankings.Count;
    }

    /// <summary>Mean over queries of 1/rank of the first relevant document within the top <paramref name="k"/> (null: any rank).</summary>
    public static double MeanReciprocalRank(IReadOnlyList<IReadOnlyList<string>> rankings, IReadOnlyList<IReadOnlySet<string>> relevant, int? k = null)
    {
        Check(rankings, relevant, k ?? 1);
        double sum = 0;
        for (int q = 0; q < rankings.Count; q++)
        {
            int limit = Math.Min(k ?? int.MaxValue, rankings[q].Count);
            for (int r = 0; r < limit; r++)
                if (relevant[q].Contains(rankings[q][r])) { sum += 1.0 / (r + 1); break; }
        }
        return sum / rankings.Count;
    }

    private static void Check(IReadOnlyList<IReadOnlyList<string>> rankings, IReadOnlyList<IReadOnlySet<string>> relevant, int k)
    {
        if (rankings.Count != relevant.Count) throw new ArgumentException($"{rankings.Count} rankings but {relevant.Count} relevance sets; one of each per query.");
        if (rankings.Count == 0) throw new ArgumentException("No queries.");
        if (k < 1) throw new ArgumentException($"k must be at least 1; got {k}.", nameof(k));
    }

    // sklearn _dcg_sample_scores(y_true, y_true, ignore_ties=True): gains sorted descending.
    private static double IdealDcg(ReadOnlySpan<double> relevance, double[] discount)
    {
        var sorted = relevance.ToArray();
        Array.Sort(sorted);
        double dcg = 0;
        for (int i = 0; i < sorted.Length; i++) dcg += discount[i] * sorted[sorted.Length - 1 - i];
        return dcg;
    }

    // sklearn _tie_averaged_dcg: groups of equal score in descending order; each group's mean gain times
    // the sum of the discounts of the ranks it spans.
    private static double TieAveragedDcg(ReadOnlySpan<double> relevance, ReadOnlySpan<double> scores, double[] discountCumsum)
    {
        int n = scores.Length;
        var order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        var keys = new double[n];
        for (int i = 0; i < n; i++) keys[i] = -scores[i];
        Array.Sort(keys, order);
        double dcg = 0, previous = 0;
        for (int start = 0; start < n;)
        {
            int end = start + 1;
            while (end < n && keys[end] == keys[start]) end++;
            double gain = 0;
            for (int j = start; j < end; j++) gain += relevance[order[j]];
            double cumulative = discountCumsum[end - 1];
            dcg += gain / (end - start) * (cumulative - previous);
            previous = cumulative;
            start = end;
        }
        return dcg;
    }
}

// RetrievalMetrics against Fixtures/make_retrieval_bertscore_fixture.py: nDCG equal to scikit-learn's
// ndcg_score (ties averaged, k cut-offs, a query with no relevant document, all scores tied) and
// recall@k / MRR equal to direct loops over the rankings, to 1e-12.
using System.Text.Json;
using Loom.Evaluation.Metrics;

namespace Loom.Evaluation.Tests.Metrics;

public sealed class RetrievalMetricsTests
{
    internal static readonly Lazy<JsonElement> Fixture = new(() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "retrieval_bertscore.json"))).RootElement);

    [Fact]
    public void NdcgEqualsSklearn()
    {
        foreach (var c in Fixture.Value.GetProperty("ndcg").EnumerateArray())
        {
            var rel = c.GetProperty("relevance").EnumerateArray().Select(r => r.EnumerateArray().Select(x => x.GetDouble()).ToArray()).ToArray();
            var sc = c.GetProperty("scores").EnumerateArray().Select(r => r.EnumerateArray().Select(x => x.GetDouble()).ToArray()).ToArray();
            int? k = c.GetProperty("k").ValueKind == JsonValueKind.Null ? null : c.GetProperty("k").GetInt32();
            double actual = RetrievalMetrics.Ndcg(rel.SelectMany(r => r).ToArray(), sc.SelectMany(r => r).ToArray(), rel[0].Length, k);
            double expected = c.GetProperty("expected").GetDouble();
            Assert.True(Math.Abs(expected - actual) <= 1e-12, $"k {k}: expected {expected:R}, got {actual:R}");
        }
    }

    [Fact]
    public void RecallAndMrrEqualTheirDefinitions()
    {
        foreach (var c in Fixture.Value.GetProperty("ranking").EnumerateArray())
        {
            var rankings = c.GetProperty("rankings").EnumerateArray().Select(r => (IReadOnlyList<string>)r.EnumerateArray().Select(x => x.GetString()!).ToList()).ToList();
            var relevant = c.GetProperty("relevant").EnumerateArray().Select(r => (IReadOnlySet<string>)r.EnumerateArray().Select(x => x.GetString()!).ToHashSet()).ToList();
            int k = c.GetProperty("k").GetInt32();
            Assert.Equal(c.GetProperty("recall").GetDouble(), RetrievalMetrics.RecallAtK(rankings, relevant, k), 12);
            Assert.Equal(c.GetProperty("mrr").GetDouble(), RetrievalMetrics.MeanReciprocalRank(rankings, relevant, k), 12);
        }
    }

    [Fact]
    public void BadShapesAreRefused()
    {
        Assert.Throws<ArgumentException>(() => RetrievalMetrics.Ndcg(new double[] { 1 }, new double[] { 1 }, 1));
        Assert.Throws<ArgumentException>(() => RetrievalMetrics.Ndcg(new double[] { -1, 1 }, new double[] { 1, 2 }, 2));
        Assert.Throws<ArgumentException>(() => RetrievalMetrics.RecallAtK([["a"]], [new HashSet<string>(), new HashSet<string>()], 1));
    }
}

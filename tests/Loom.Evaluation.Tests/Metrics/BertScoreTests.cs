// BertScore against a PyTorch reimplementation of bert_score's greedy_cos_idf and get_idf_dict
// (Fixtures/make_retrieval_bertscore_fixture.py) on random embeddings: P, R, F with uniform weights
// ([CLS]/[SEP] weight 0) and with idf weights, to 1e-9. BertScorer on a Loom encoder: the same numbers
// as BertScore.Score on that encoder's own hidden states, and 1 for a text against itself. The layer
// choice (bert_score's num_layers) against Fixtures/make_bertscore_layer_fixture.py: a PyTorch forward
// of the tiny BERT truncated to 0, 1 and 2 layers and bert_score's matching, plain and idf, to 1e-5.
using Loom.Evaluation.Metrics;
using Loom.Models;

namespace Loom.Evaluation.Tests.Metrics;

public sealed class BertScoreTests
{
    [Fact]
    public void GreedyMatchingEqualsBertScoreReference()
    {
        var f = RetrievalMetricsTests.Fixture.Value;
        var refs = f.GetProperty("bertscore_references").EnumerateArray().Select(r => (IReadOnlyList<int>)r.EnumerateArray().Select(x => x.GetInt32()).ToList()).ToList();
        var special = f.GetProperty("bertscore_special").EnumerateArray().Select(x => x.GetInt32()).ToArray();
        var idf = BertScore.Idf(refs, special);
        foreach (var c in f.GetProperty("bertscore").EnumerateArray())
        {
            int dim = c.GetProperty("dim").GetInt32();
            var cand = c.GetProperty("candidate").EnumerateArray().Select(x => (float)x.GetDouble()).ToArray();
            var refe = c.GetProperty("reference").EnumerateArray().Select(x => (float)x.GetDouble()).ToArray();
            var cIds = c.GetProperty("candidate_ids").EnumerateArray().Select(x => x.GetInt32()).ToArray();
            var rIds = c.GetProperty("reference_ids").EnumerateArray().Select(x => x.GetInt32()).ToArray();
            double[] Plain(int[] ids) => ids.Select(i => special.Contains(i) ? 0.0 : 1.0).ToArray();
            Check(c.GetProperty("plain"), BertScore.Score(cand, refe, dim, Plain(cIds), Plain(rIds)));
            Check(c.GetProperty("idf"), BertScore.Score(cand, refe, dim, cIds.Select(idf).ToArray(), rIds.Select(idf).ToArray()));
        }
    }

    [Fact]
    public void ScorerRunsALoomEncoder()
    {
        // The tiny GPT-2 of the perplexity fixture as the encoder body (any IHiddenStateModel serves).
        using var model = (IHiddenStateModel)CausalLanguageModels.Load(Path.Combine(AppContext.BaseDirectory, "Fixtures", "perplexity", "gpt2"), ModelOptions.Inference);
        var scorer = new BertScorer(model, hasSpecialTokens: false);
        int[] a = [5, 9, 14, 3], b = [5, 9, 20, 3, 7];
        var r = scorer.Score([a, a], [a, b]);
        Assert.Equal(1.0, r[0].F1, 6);
        var direct = BertScore.Score(scorer.Embed(a), scorer.Embed(b), model.HiddenSize);
        Assert.Equal(direct.Precision, r[1].Precision, 12);
        Assert.Equal(direct.Recall, r[1].Recall, 12);
        Assert.InRange(r[1].F1, -1, 0.999999);
    }

    public static TheoryData<int> Layers => new(0, 1, 2);

    [Theory]
    [MemberData(nameof(Layers))]
    public void LayerChoiceEqualsBertScoreNumLayersInPyTorch(int layer)
    {
        string dir = Path.Combine(AppContext.BaseDirectory, "Fixtures", "bertscore_layer");
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "expected.json")));
        var root = doc.RootElement;
        List<IReadOnlyList<int>> Ids(string side) => root.GetProperty("pairs").EnumerateArray().Select(p => (IReadOnlyList<int>)p.GetProperty(side).EnumerateArray().Select(x => x.GetInt32()).ToArray()).ToList();
        var c = Ids("candidate");
        var r = Ids("reference");
        using var classifier = Loom.Models.Classification.SequenceClassifiers.Load(Path.Combine(dir, "model"), new Loom.Models.Classification.SequenceClassifierOptions(), ModelOptions.Inference);
        var scorer = new BertScorer(classifier.Body, layer: layer);
        var expected = root.GetProperty("layers")[layer];
        Assert.Equal(layer, expected.GetProperty("layer").GetInt32());
        var plain = scorer.Score(c, r);
        var idf = scorer.Score(c, r, BertScore.Idf(r, root.GetProperty("cls").GetInt32(), root.GetProperty("sep").GetInt32()));
        for (int i = 0; i < c.Count; i++)
        {
            Check(expected.GetProperty("plain")[i], plain[i], 1e-5);
            Check(expected.GetProperty("idf")[i], idf[i], 1e-5);
        }
        if (layer == 2)   // the last layer is what the scorer uses without a layer
            Assert.Equal(new BertScorer(classifier.Body).Score(c, r)[0].F1, plain[0].F1, 12);
    }

    [Fact]
    public void ALayerOutsideTheEncoderOrOnABodyWithoutLayersIsRefused()
    {
        string dir = Path.Combine(AppContext.BaseDirectory, "Fixtures", "bertscore_layer", "model");
        using var classifier = Loom.Models.Classification.SequenceClassifiers.Load(dir, new Loom.Models.Classification.SequenceClassifierOptions(), ModelOptions.Inference);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new BertScorer(classifier.Body, layer: 3));
        Assert.Contains("0 (the embeddings) to 2", e.Message);
        using var gpt2 = (IHiddenStateModel)CausalLanguageModels.Load(Path.Combine(AppContext.BaseDirectory, "Fixtures", "perplexity", "gpt2"), ModelOptions.Inference);
        Assert.Throws<NotSupportedException>(() => new BertScorer(gpt2, layer: 1));
    }

    private static void Check(System.Text.Json.JsonElement expected, BertScore.Result actual, double tolerance = 1e-9)
    {
        var e = expected.EnumerateArray().Select(x => x.GetDouble()).ToArray();
        Assert.True(Math.Abs(e[0] - actual.Precision) <= tolerance, $"P expected {e[0]:R}, got {actual.Precision:R}");
        Assert.True(Math.Abs(e[1] - actual.Recall) <= tolerance, $"R expected {e[1]:R}, got {actual.Recall:R}");
        Assert.True(Math.Abs(e[2] - actual.F1) <= tolerance, $"F expected {e[2]:R}, got {actual.F1:R}");
    }
}

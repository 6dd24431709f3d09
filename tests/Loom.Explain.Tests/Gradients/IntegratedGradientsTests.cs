// Integrated gradients against the axiom it must satisfy (Sundararajan et al. 2017, Proposition 1,
// completeness): Σ attributions = F(x) − F(baseline), within 1% with 50 Gauss–Legendre steps, on
// tiny BERT, GPT-2 and Llama classifiers through Loom's own backward; the seam's gradient against a
// central finite difference in α; and the quadrature against exact polynomial integrals.
using Loom.Explain.Gradients;
using Loom.Models;
using Loom.Models.Bert;
using Loom.Models.Classification;
using Loom.Models.Gpt2;
using Loom.Models.Llama;

namespace Loom.Explain.Tests.Gradients;

public sealed class IntegratedGradientsTests
{
    internal static ISequenceClassificationModel Tiny(string family, int seed = 7)
    {
        object config = family switch
        {
            "bert" => new BertConfig { VocabSize = 64, HiddenSize = 32, Layers = 2, Heads = 4, IntermediateSize = 64, MaxPositions = 32 },
            "gpt2" => new Gpt2Config { VocabSize = 64, Embedding = 32, Layers = 2, Heads = 4, MaxPositions = 32 },
            _ => new LlamaConfig { VocabSize = 64, HiddenSize = 32, Layers = 2, Heads = 4, KeyValueHeads = 2, IntermediateSize = 64, MaxPositions = 32 },
        };
        // Head weights N(0, 1): the logits move enough along the path for a relative check to mean something.
        var model = SequenceClassifiers.Create(config, new SequenceClassifierOptions { NumLabels = 3, PadTokenId = 0, Seed = seed });
        var p = model.Parameters;
        var rng = new Random(seed);
        for (int i = 0; i < p.Specs.Count; i++)
            if (p.Specs[i].Name.StartsWith("score.", StringComparison.Ordinal) || p.Specs[i].Name.StartsWith("classifier.", StringComparison.Ordinal))
                foreach (ref var v in p.Value(i)) v = (float)(rng.NextDouble() * 4 - 2);
        return model;
    }

    [Theory]
    [InlineData("bert")]
    [InlineData("gpt2")]
    [InlineData("llama")]
    public void AttributionsSumToTheLogitDifference(string family)
    {
        using var model = Tiny(family);
        int[] ids = [2, 17, 33, 5, 48, 9, 61, 3];
        var ig = new IntegratedGradients(model, new IntegratedGradientsOptions { Steps = 50 });
        var a = ig.Attribute(ids);
        Assert.Equal(ids.Length, a.Attributions.Length);
        double diff = a.Output - a.BaselineOutput;
        Assert.True(Math.Abs(diff) > 0.05, $"F(x) − F(x') = {diff}: too small for a relative check");
        Assert.True(a.CompletenessError < 0.01, $"Σ IG = {a.Attributions.Sum():G6}, F(x) − F(x') = {diff:G6}: error {a.CompletenessError:P2}");
        // the seam leaves the model as it was: a plain forward gives the unscaled logits again
        model.Forward(new TokenBatch(ids, 1, ids.Length), default);
        Assert.Equal(a.Output, model.Scores[a.Target], 4);
    }

    [Fact]
    public void FewStepsAreLessCompleteThanMany()
    {
        using var model = Tiny("bert", seed: 3);
        int[] ids = [2, 40, 12, 7, 3];
        var coarse = new IntegratedGradients(model, new IntegratedGradientsOptions { Steps = 1 }).Attribute(ids);
        var fine = new IntegratedGradients(model, new IntegratedGradientsOptions { Steps = 64 }).Attribute(ids);
        Assert.True(fine.CompletenessError <= coarse.CompletenessError, $"64 steps {fine.CompletenessError} vs 1 step {coarse.CompletenessError}");
    }

    [Theory]
    [InlineData("bert")]
    [InlineData("gpt2")]
    public void WordEmbeddingGradientMatchesAFiniteDifferenceInAlpha(string family)
    {
        // d F(α·x)/dα = Σ x·∂F/∂x at α: the kept gradient, checked by a central difference of the logit.
        using var model = Tiny(family, seed: 11);
        var body = (IWordEmbeddingGradient)model.Body;
        int[] ids = [4, 20, 31, 8, 50, 3];
        int T = ids.Length, C = model.Body.HiddenSize, target = 1;
        float alpha = 0.6f, h = 1e-2f;
        double Logit(float a)
        {
            body.SetWordEmbeddingScales([a]);
            model.Forward(new TokenBatch(ids, 1, T), default);
            return model.Scores[target];
        }
        double fd = (Logit(alpha + h) - Logit(alpha - h)) / (2 * h);
        body.KeepWordEmbeddingGradient = true;
        Logit(alpha);
        var ds = new float[3]; ds[target] = 1;
        model.BackwardScores(ds);
        var x = new float[T * C];
        body.WordEmbeddings(ids, x);
        double analytic = 0;
        for (int i = 0; i < T * C; i++) analytic += x[i] * body.WordEmbeddingGradient[i];
        body.SetWordEmbeddingScales([]);
        Assert.Equal(fd, analytic, Math.Max(2e-3, Math.Abs(fd) * 0.02));
    }

    [Fact]
    public void GaussLegendreIntegratesPolynomialsExactly()
    {
        var (x, w) = GaussLegendre.On01(5);
        Assert.Equal(1.0, w.Sum(), 12);
        // ∫₀¹ t^k dt = 1/(k+1), exact up to degree 2n − 1 = 9
        for (int k = 0; k <= 9; k++) Assert.Equal(1.0 / (k + 1), x.Select((t, i) => w[i] * Math.Pow(t, k)).Sum(), 12);
        Assert.True(x.Zip(x.Skip(1)).All(p => p.First < p.Second) && x[0] > 0 && x[^1] < 1);
    }
}

public sealed class IntegratedGradientsExplainTests
{
    [Fact]
    public void ExplainEncodesTheTextAndReportsCompleteness()
    {
        string dir = Loom.Explain.Tests.Classifiers.ClassifierAdapterTests.SavedBert();
        using var c = Loom.Explain.Classifiers.SequenceTextClassifier.Open(dir, withGradients: true);
        var e = new IntegratedGradients(c.Model, new IntegratedGradientsOptions { Features = 3 }).Explain("the movie was great", c.Encoder, c.Labels);
        Assert.Equal(["[CLS]", "the", "movie", "was", "great", "[SEP]"], e.Segments);
        Assert.Single(e.Classes);
        Assert.Equal(3, e.Classes[0].Top.Count);
        Assert.True(e.Details["completeness_error"] < 0.01, $"completeness error {e.Details["completeness_error"]}");
        Assert.Equal(e.Classes[0].SegmentWeights.Sum(), e.Classes[0].LocalPrediction!.Value, 9);
    }
}

// The truth test of issue 17 §2: a bag-of-words logistic model, whose word coefficients are known,
// behind the same ITextClassifier as any other model; LIME's word weights for the positive class must
// rank-correlate with the coefficients (Spearman ≥ 0.9 over the top words).
using Loom.Explain.Classifiers;
using Loom.Explain.Lime;

namespace Loom.Explain.Tests.Lime;

public sealed class LimeTextExplainerTests
{
    private const string Review = "the plot was dull but the acting was brilliant and the music wonderful though the ending felt rushed and boring";

    private static BagOfWordsLogisticClassifier Model() => new(new Dictionary<string, double>
    {
        ["brilliant"] = 1.6, ["wonderful"] = 1.1, ["music"] = 0.5, ["acting"] = 0.3,
        ["dull"] = -1.4, ["boring"] = -0.9, ["rushed"] = -0.6, ["plot"] = -0.15, ["felt"] = 0.05,
    }, intercept: 0.2);

    [Fact]
    public async Task WordWeightsRankCorrelateWithTheLogisticCoefficients()
    {
        var model = Model();
        var explainer = new LimeTextExplainer(model, new LimeTextOptions { Samples = 2000, Features = 10, Seed = 1 });
        var e = await explainer.ExplainAsync(Review);
        var positive = e.Classes.Single(c => c.Label == "positive");
        Assert.Equal(10, positive.Top.Count);
        // the 10 words LIME reports, against their true coefficients
        var truth = positive.Top.Select(w => Coefficient(model, w.Word)).ToArray();
        double rho = Spearman(positive.Top.Select(w => w.Weight).ToArray(), truth);
        Assert.True(rho >= 0.9, $"Spearman {rho:F3} between LIME's weights and the coefficients: {string.Join(", ", positive.Top.Select(w => $"{w.Word}={w.Weight:F3}"))}");
        // the strongest words are found, with the sign of their coefficient
        Assert.Equal("brilliant", positive.Top[0].Word);
        Assert.True(positive.Top.Single(w => w.Word == "dull").Weight < 0);
        // the negative class is the mirror image
        var negative = e.Classes.Single(c => c.Label == "negative");
        Assert.Equal(-positive.Top[0].Weight, negative.Top.Single(w => w.Word == "brilliant").Weight, 6);
        Assert.Equal(e.Text, string.Concat(e.Segments));
    }

    [Fact]
    public async Task TopLabelsExplainsOnlyTheMostProbableClass()
    {
        var e = await new LimeTextExplainer(Model(), new LimeTextOptions { Samples = 300, Features = 4, TopLabels = 1 }).ExplainAsync(Review);
        Assert.Single(e.Classes);
        Assert.Equal(4, e.Classes[0].Top.Count);   // forward selection (≤ 6 features)
    }

    [Fact]
    public async Task ATextWithoutWordsIsRefused()
    {
        var ex = await Assert.ThrowsAsync<ArgumentException>(() => new LimeTextExplainer(Model()).ExplainAsync(" ... !"));
        Assert.Contains("no words", ex.Message);
    }

    private static double Coefficient(BagOfWordsLogisticClassifier m, string word) => m.Logit(word) - m.Logit("");

    // Spearman's ρ: Pearson correlation of average ranks (scipy.stats.spearmanr).
    internal static double Spearman(double[] a, double[] b)
    {
        var ra = Ranks(a); var rb = Ranks(b);
        double ma = ra.Average(), mb = rb.Average(), sab = 0, saa = 0, sbb = 0;
        for (int i = 0; i < a.Length; i++) { sab += (ra[i] - ma) * (rb[i] - mb); saa += (ra[i] - ma) * (ra[i] - ma); sbb += (rb[i] - mb) * (rb[i] - mb); }
        return sab / Math.Sqrt(saa * sbb);
    }

    private static double[] Ranks(double[] x)
    {
        var order = Enumerable.Range(0, x.Length).OrderBy(i => x[i]).ToArray();
        var r = new double[x.Length];
        for (int i = 0; i < order.Length;)
        {
            int j = i;
            while (j + 1 < order.Length && x[order[j + 1]] == x[order[i]]) j++;
            for (int k = i; k <= j; k++) r[order[k]] = (i + j) / 2.0 + 1;
            i = j + 1;
        }
        return r;
    }
}

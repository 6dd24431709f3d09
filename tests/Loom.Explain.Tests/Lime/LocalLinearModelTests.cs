// LIME's steps after sampling against lime_fixture.json (make_lime_fixture.py: lime_base's
// explain_instance_with_data reimplemented with scikit-learn 1.2.1's Ridge on masks drawn as lime draws them).
using System.Text.Json;
using Loom.Explain.Lime;

namespace Loom.Explain.Tests.Lime;

public sealed class LocalLinearModelTests
{
    private static readonly JsonElement Fixture = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "lime_fixture.json"))).RootElement;

    private static (double[] Data, int D, double[][] P) Neighbourhood()
    {
        int d = Fixture.GetProperty("d").GetInt32();
        var data = Fixture.GetProperty("masks").EnumerateArray().SelectMany(r => r.EnumerateArray().Select(v => (double)v.GetInt32())).ToArray();
        var p = Fixture.GetProperty("probabilities").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray();
        return (data, d, p);
    }

    [Fact]
    public void CosineDistancesAndKernelEqualSklearnAndLime()
    {
        var (data, d, _) = Neighbourhood();
        var dist = LocalLinearModel.CosineDistances(data, d);
        var expected = Fixture.GetProperty("distances").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        var weights = Fixture.GetProperty("weights").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        Assert.Equal(expected.Length, dist.Length);
        for (int i = 0; i < dist.Length; i++)
        {
            Assert.Equal(expected[i], dist[i], 1e-9);
            Assert.Equal(weights[i], LocalLinearModel.Kernel(dist[i], 25), 1e-12);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void ExplainEqualsLimeBaseWithSklearnRidge(int index)
    {
        var (data, d, p) = Neighbourhood();
        var c = Fixture.GetProperty("cases")[index];
        int label = c.GetProperty("label").GetInt32();
        var method = c.GetProperty("method").GetString() == "none" ? LimeFeatureSelection.None : LimeFeatureSelection.Auto;
        var weights = LocalLinearModel.CosineDistances(data, d).Select(x => LocalLinearModel.Kernel(x, 25)).ToArray();
        var fit = LocalLinearModel.Explain(data, d, p.Select(r => r[label]).ToArray(), weights, c.GetProperty("num_features").GetInt32(), method);
        var features = c.GetProperty("features").EnumerateArray().Select(v => v.GetInt32()).ToArray();
        var coef = c.GetProperty("weights").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        Assert.Equal(features, fit.Weights.Select(w => w.Feature).ToArray());
        for (int j = 0; j < coef.Length; j++) Assert.Equal(coef[j], fit.Weights[j].Weight, 1e-8);
        Assert.Equal(c.GetProperty("intercept").GetDouble(), fit.Intercept, 1e-8);
        Assert.Equal(c.GetProperty("score").GetDouble(), fit.Score, 1e-8);
        Assert.Equal(c.GetProperty("local_pred").GetDouble(), fit.LocalPrediction, 1e-8);
    }

    [Fact]
    public void IndexedTextSplitsAndRemovesAsLimeText()
    {
        foreach (var t in Fixture.GetProperty("texts").EnumerateArray())
        {
            var text = new IndexedText(t.GetProperty("text").GetString()!);
            Assert.Equal(t.GetProperty("vocabulary").EnumerateArray().Select(v => v.GetString()!).ToArray(), text.Vocabulary.ToArray());
            var keep = Enumerable.Repeat(true, text.Vocabulary.Count).ToArray();
            foreach (var r in t.GetProperty("remove").EnumerateArray()) keep[r.GetInt32()] = false;
            Assert.Equal(t.GetProperty("removed").GetString(), text.Without(keep));
        }
    }

    [Fact]
    public void SampledMasksKeepRowZeroAndRemoveOneToAllWords()
    {
        var masks = LimeTextExplainer.SampleMasks(7, 500, new Random(3));
        Assert.All(Enumerable.Range(0, 7), j => Assert.Equal(1.0, masks[j]));
        var removed = Enumerable.Range(1, 499).Select(i => Enumerable.Range(0, 7).Count(j => masks[i * 7 + j] == 0)).ToArray();
        Assert.All(removed, r => Assert.InRange(r, 1, 7));
        // uniform over 1..7: every count appears
        Assert.Equal(7, removed.Distinct().Count());
    }
}

// MMD against numpy (Fixtures/make_drift_fixtures.py); the domain classifier's behaviour on planted cases, its
// AUC computed by Loom.Evaluation's ROC-AUC (itself equal to scikit-learn).
using Loom.Monitoring.Embeddings;

namespace Loom.Monitoring.Tests.Embeddings;

public sealed class EmbeddingDriftTests
{
    private static float[][] Rows(System.Text.Json.JsonElement e) =>
        e.EnumerateArray().Select(r => r.EnumerateArray().Select(v => (float)v.GetDouble()).ToArray()).ToArray();

    [Fact]
    public void Mmd2_and_median_sigma_match_numpy()
    {
        foreach (var c in Fixtures.Load("drift_stats.json").GetProperty("mmd").EnumerateArray())
        {
            string name = c.GetProperty("name").GetString()!;
            double? sigma = name.Contains("sigma") ? c.GetProperty("sigma").GetDouble() : null;
            var r = MaximumMeanDiscrepancy.Measure(Rows(c.GetProperty("reference")), Rows(c.GetProperty("current")), sigma, permutations: 50);
            // inputs are float32 here, float64 in numpy
            Fixtures.Close(c.GetProperty("sigma").GetDouble(), r.Sigma, 1e-6, 0, name + " sigma");
            Fixtures.Close(c.GetProperty("mmd2").GetDouble(), r.Mmd2, 1e-5, 1e-7, name + " mmd2");
            if (name == "same") Assert.True(r.PValue > 0.05, $"p {r.PValue}");
            else Assert.True(r.PValue < 0.05, $"p {r.PValue}");
        }
    }

    private static float[][] Gaussian(int n, int d, double shift, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => Enumerable.Range(0, d).Select(j =>
            (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()) + (j < 3 ? shift : 0))).ToArray()).ToArray();
    }

    [Fact]
    public void Domain_classifier_separates_shifted_embeddings_and_guesses_on_identical_ones()
    {
        var same = DomainClassifier.Measure(Gaussian(300, 16, 0, 1), Gaussian(300, 16, 0, 2));
        Assert.InRange(same.RocAuc, 0.4, 0.6);
        Assert.False(same.Drifted);
        var shifted = DomainClassifier.Measure(Gaussian(300, 16, 0, 3), Gaussian(300, 16, 1.0, 4));
        // The Bayes-optimal AUC of a unit shift in 3 of 16 dimensions is Φ(√3/√2) = 0.89.
        Assert.True(shifted.RocAuc > 0.85, $"AUC {shifted.RocAuc}");
        Assert.True(shifted.Drifted);
    }

    [Fact]
    public void Hashed_bag_of_words_is_unit_length_and_deterministic()
    {
        var e = new HashedBagOfWordsEmbedder(64);
        var a = e.Embed("The quick brown fox jumps over the lazy dog");
        Assert.Equal(a, e.Embed("the QUICK brown fox jumps over the lazy dog!"));
        Assert.Equal(1.0, Math.Sqrt(a.Sum(v => (double)v * v)), 5);
        Assert.All(e.Embed("   "), v => Assert.Equal(0f, v));
    }
}

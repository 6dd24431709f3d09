// Cohen's kappa against sklearn.metrics.cohen_kappa_score (1.2.1) and Fleiss' kappa against the
// definition computed in numpy, including Fleiss's worked example (κ = 0.2099), from
// Fixtures/make_agreement_fixtures.py.
using System.Text.Json.Nodes;
using Loom.Evaluation.Agreement;

namespace Loom.Evaluation.Tests.Agreement;

public sealed class InterRaterAgreementTests
{
    internal static JsonObject Fixtures => (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "agreement_fixtures.json")))!;

    [Fact]
    public void CohenKappaEqualsSklearnForEveryWeighting()
    {
        foreach (var c in (JsonArray)Fixtures["cohen"]!)
        {
            var a = c!["a"]!.AsArray().Select(x => x!.GetValue<int>()).ToList();
            var b = c["b"]!.AsArray().Select(x => x!.GetValue<int>()).ToList();
            Assert.Equal(c["none"]!.GetValue<double>(), InterRaterAgreement.CohenKappa(a, b), 12);
            Assert.Equal(c["linear"]!.GetValue<double>(), InterRaterAgreement.CohenKappa(a, b, KappaWeights.Linear), 12);
            Assert.Equal(c["quadratic"]!.GetValue<double>(), InterRaterAgreement.CohenKappa(a, b, KappaWeights.Quadratic), 12);
        }
        var s = Fixtures["cohen_strings"]!;
        Assert.Equal(s["none"]!.GetValue<double>(),
            InterRaterAgreement.CohenKappa(s["a"]!.AsArray().Select(x => x!.GetValue<string>()).ToList(), s["b"]!.AsArray().Select(x => x!.GetValue<string>()).ToList()), 12);
    }

    [Fact]
    public void FleissKappaEqualsTheDefinition()
    {
        foreach (var c in (JsonArray)Fixtures["fleiss"]!)
        {
            var rows = c!["table"]!.AsArray();
            int k = rows[0]!.AsArray().Count;
            var table = new int[rows.Count, k];
            for (int i = 0; i < rows.Count; i++)
                for (int j = 0; j < k; j++) table[i, j] = rows[i]![j]!.GetValue<int>();
            Assert.Equal(c["kappa"]!.GetValue<double>(), InterRaterAgreement.FleissKappa(table), 12);
        }
    }

    [Fact]
    public void FleissRefusesUnequalRatingCounts()
    {
        var e = Assert.Throws<ArgumentException>(() => InterRaterAgreement.FleissKappa(new[,] { { 2, 1 }, { 1, 1 } }));
        Assert.Contains("item 1 has 2 ratings", e.Message);
    }

    [Fact]
    public void CountTableCountsEachRatersChoice()
    {
        var (table, cats) = InterRaterAgreement.CountTable<string>([["a", "b"], ["a", "a"], ["b", "a"]]);
        Assert.Equal(["a", "b"], cats);
        Assert.Equal(2, table[0, 0]);
        Assert.Equal(1, table[0, 1]);
        Assert.Equal(2, table[1, 0]);
    }
}

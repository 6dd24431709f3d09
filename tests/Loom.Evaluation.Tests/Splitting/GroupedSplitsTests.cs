// StratifiedGroupKFold against scikit-learn 1.2.1 (shuffle=False), fold for fold, from
// Fixtures/make_agreement_fixtures.py; and the grouped hold-out's invariants (no group on both sides,
// the test side near its fraction, seeded).
using System.Text.Json.Nodes;
using Loom.Evaluation.Splitting;
using Loom.Evaluation.Tests.Agreement;

namespace Loom.Evaluation.Tests.Splitting;

public sealed class GroupedSplitsTests
{
    [Fact]
    public void StratifiedGroupKFoldEqualsSklearn()
    {
        var cases = (JsonArray)InterRaterAgreementTests.Fixtures["sgkf"]!;
        Assert.NotEmpty(cases);
        foreach (var c in cases)
        {
            var groups = c!["groups"]!.AsArray().Select(g => g!.GetValue<string>()).ToList();
            var y = c["y"]!.AsArray().Select(v => v!.GetValue<int>()).ToArray();
            var expected = c["fold"]!.AsArray().Select(v => v!.GetValue<int>()).ToArray();
            Assert.Equal(expected, GroupedSplits.StratifiedGroupKFold(groups, y, c["k"]!.GetValue<int>()));
        }
    }

    [Fact]
    public void HoldoutKeepsGroupsTogether()
    {
        var groups = Enumerable.Range(0, 200).Select(i => "doc" + (i / 4)).ToList();
        var labels = Enumerable.Range(0, 200).Select(i => (i / 4) % 3 == 0 ? "pos" : "neg").ToList();
        var fold = GroupedSplits.Holdout(groups, labels, 0.25, seed: 7);
        var trainGroups = fold.TrainIndices.Select(i => groups[i]).ToHashSet();
        Assert.DoesNotContain(fold.TestIndices, i => trainGroups.Contains(groups[i]));
        Assert.InRange(fold.TestIndices.Length, 44, 56);
        Assert.InRange(fold.TestIndices.Count(i => labels[i] == "pos") / (double)fold.TestIndices.Length, 0.25, 0.42);
        Assert.Equal(fold.TestIndices, GroupedSplits.Holdout(groups, labels, 0.25, seed: 7).TestIndices);
        Assert.Equal(200, fold.TrainIndices.Length + fold.TestIndices.Length);
    }
}

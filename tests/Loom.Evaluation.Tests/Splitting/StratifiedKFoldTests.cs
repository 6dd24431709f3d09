// StratifiedKFold against scikit-learn 1.2.1's StratifiedKFold: the exact fold of every sample
// without shuffle, and with shuffle the per-fold class counts sklearn's allocation gives (Loom's
// permutation differs from numpy's by design; it must be seeded and deterministic).
using Loom.Evaluation.Splitting;
using static Loom.Evaluation.Tests.MetricFixtures;

namespace Loom.Evaluation.Tests.Splitting;

public sealed class StratifiedKFoldTests
{
    public static TheoryData<string> Cases => Names("kfold");

    [Theory]
    [MemberData(nameof(Cases))]
    public void FoldAssignmentEqualsSklearn(string name)
    {
        var c = Case("kfold", name);
        int[] y = Ints(c.GetProperty("y"));
        int k = c.GetProperty("n_splits").GetInt32();
        Assert.Equal(Ints(c.GetProperty("test_fold")), new StratifiedKFold(k).AssignFolds(y));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ShuffledFoldsKeepSklearnsClassAllocationAndAreSeeded(string name)
    {
        var c = Case("kfold", name);
        int[] y = Ints(c.GetProperty("y")), classes = Ints(c.GetProperty("classes"));
        int k = c.GetProperty("n_splits").GetInt32();
        var expected = c.GetProperty("shuffled_fold_class_counts").EnumerateArray().Select(Ints).ToArray();
        int[] folds = new StratifiedKFold(k, shuffle: true, seed: 7).AssignFolds(y);
        for (int f = 0; f < k; f++)
            for (int j = 0; j < classes.Length; j++)
                Assert.Equal(expected[f][j], Enumerable.Range(0, y.Length).Count(i => folds[i] == f && y[i] == classes[j]));
        Assert.Equal(folds, new StratifiedKFold(k, shuffle: true, seed: 7).AssignFolds(y));
        Assert.NotEqual(new StratifiedKFold(k).AssignFolds(y), folds);
    }

    [Fact]
    public void SplitPartitionsTheSamples()
    {
        int[] y = Ints(Case("kfold", "kfold_imbalanced").GetProperty("y"));
        var folds = new StratifiedKFold(5).Split(y);
        Assert.Equal(5, folds.Count);
        Assert.Equal(Enumerable.Range(0, y.Length), folds.SelectMany(f => f.TestIndices).Order());
        foreach (var f in folds)
            Assert.Equal(Enumerable.Range(0, y.Length), f.TrainIndices.Concat(f.TestIndices).Order());
    }

    [Fact]
    public void AClassSmallerThanTheFoldCountIsNamed()
    {
        int[] y = [0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 9, 9];
        var e = Assert.Throws<ArgumentException>(() => new StratifiedKFold(5).AssignFolds(y));
        Assert.Contains("class 9 has 2 member(s)", e.Message);
        Assert.Contains("5 folds", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new StratifiedKFold(1));
        Assert.Throws<ArgumentException>(() => new StratifiedKFold(2).AssignFolds([]));
    }
}

// StratifiedHoldout against scikit-learn 1.2.1's StratifiedShuffleSplit class counts (cases whose
// allocation has no ties, where sklearn's counts do not depend on its generator).
using Loom.Evaluation.Splitting;
using static Loom.Evaluation.Tests.MetricFixtures;

namespace Loom.Evaluation.Tests.Splitting;

public sealed class StratifiedHoldoutTests
{
    public static TheoryData<string> Cases => Names("holdout");

    [Theory]
    [MemberData(nameof(Cases))]
    public void ClassCountsEqualSklearn(string name)
    {
        var c = Case("holdout", name);
        int[] y = Ints(c.GetProperty("y")), classes = Ints(c.GetProperty("classes"));
        var fold = StratifiedHoldout.Split(y, c.GetProperty("test_size").GetDouble(), seed: 11);
        Assert.Equal(Ints(c.GetProperty("test_class_counts")), classes.Select(k => fold.TestIndices.Count(i => y[i] == k)));
        Assert.Equal(Ints(c.GetProperty("train_class_counts")), classes.Select(k => fold.TrainIndices.Count(i => y[i] == k)));
        Assert.Equal(Enumerable.Range(0, y.Length), fold.TrainIndices.Concat(fold.TestIndices).Order());
        Assert.Equal(fold.TestIndices, StratifiedHoldout.Split(y, c.GetProperty("test_size").GetDouble(), seed: 11).TestIndices);
    }

    [Fact]
    public void BadSplitsAreNamed()
    {
        Assert.Contains("class 4 has 1 member", Assert.Throws<ArgumentException>(() => StratifiedHoldout.Split([0, 0, 1, 1, 4], 0.5)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => StratifiedHoldout.Split([0, 0, 1, 1], 1.0));
        Assert.Contains("3 classes", Assert.Throws<ArgumentException>(() => StratifiedHoldout.Split([0, 0, 1, 1, 2, 2, 2, 2, 2, 2], 0.1)).Message);
    }
}

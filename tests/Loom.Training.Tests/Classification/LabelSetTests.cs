using Loom.Models.Classification;
using Loom.Training.Classification;

namespace Loom.Training.Tests.Classification;

public class LabelSetTests
{
    private static LabeledText T(params string[] labels) => new("x", null, labels, null, "f", 1);

    [Fact]
    public void InferredLabelsAreSortedNumericallyWhenAllAreWholeNumbersElseOrdinally()
    {
        // sklearn's LabelEncoder sorts np.unique of the labels: ints numerically, strings lexicographically.
        Assert.Equal(["0", "2", "10"], LabelSet.Infer([T("10"), T("2"), T("0"), T("2")], ProblemType.SingleLabel).Names);
        Assert.Equal(["Neg", "neg", "pos"], LabelSet.Infer([T("pos"), T("neg"), T("Neg")], ProblemType.SingleLabel).Names);
        Assert.Equal(["a", "b", "c"], LabelSet.Infer([T("c", "a"), T(), T("b")], ProblemType.MultiLabel).Names);
    }

    [Fact]
    public void OneClassDuplicatesAndEmptyNamesAreRefused()
    {
        Assert.Contains("at least two classes", Assert.Throws<InvalidDataException>(() => LabelSet.Infer([T("a"), T("a")], ProblemType.SingleLabel)).Message);
        Assert.Contains("twice", Assert.Throws<ArgumentException>(() => new LabelSet(["a", "a"], ProblemType.SingleLabel)).Message);
        Assert.Contains("labels[1] is empty", Assert.Throws<ArgumentException>(() => new LabelSet(["a", " "], ProblemType.SingleLabel)).Message);
    }

    [Fact]
    public void MultiLabelTargetsAreOneHotAndUnknownNamesAreErrors()
    {
        var set = new LabelSet(["a", "b", "c"], ProblemType.MultiLabel);
        Assert.Equal([1f, 0f, 1f], set.TargetsOf(T("c", "a")));
        Assert.Contains("\"d\" is not in the label set", Assert.Throws<InvalidDataException>(() => set.TargetsOf(T("d"))).Message);
    }
}

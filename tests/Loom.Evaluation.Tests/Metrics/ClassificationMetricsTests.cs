// ClassificationMetrics against scikit-learn 1.2.1 on the committed fixture vectors (binary, 3- and
// 5-class, imbalanced, ties, perfect, all wrong, a class never predicted, a class absent from both,
// probabilities at exactly 0 and 1), plus the NaN zero-division rule (not in 1.2.1: hand-worked
// cases from its definition) and the errors bad input must raise.
using System.Text.Json;
using Loom.Evaluation.Metrics;
using static Loom.Evaluation.Tests.MetricFixtures;

namespace Loom.Evaluation.Tests.Metrics;

public sealed class ClassificationMetricsTests
{
    public static TheoryData<string> Cases => Names("classification");

    private static (int[] Y, int[] Pred, double[] Proba, int K, int[] Labels) Load(JsonElement c)
        => (Ints(c.GetProperty("y_true")), Ints(c.GetProperty("y_pred")), Doubles(c.GetProperty("probabilities")),
            c.GetProperty("num_classes").GetInt32(), Ints(c.GetProperty("labels")));

    private static ZeroDivision ParseZeroDivision(string s) => s switch
    {
        "warn" => ZeroDivision.Warn,
        "0" => ZeroDivision.Zero,
        "1" => ZeroDivision.One,
        _ => throw new FormatException(s),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void AccuracyConfusionMatrixAndMccEqualSklearn(string name)
    {
        var c = Case("classification", name);
        var (y, pred, _, k, labels) = Load(c);
        Near(c.GetProperty("accuracy"), ClassificationMetrics.Accuracy(y, pred), "accuracy");
        var cm = ConfusionMatrix.Compute(y, pred, labels);
        long[] expected = Longs(c.GetProperty("confusion_matrix"));
        for (int r = 0; r < k; r++)
            for (int col = 0; col < k; col++)
                Assert.Equal(expected[r * k + col], cm[r, col]);
        Near(c.GetProperty("mcc"), ClassificationMetrics.MatthewsCorrelation(y, pred, labels), "mcc");
        Near(c.GetProperty("mcc"), ClassificationMetrics.MatthewsCorrelation(y, pred), "mcc (labels inferred)");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void PrecisionRecallFBetaEqualSklearnForEveryAverageZeroDivisionAndBeta(string name)
    {
        var c = Case("classification", name);
        var (y, pred, _, _, labels) = Load(c);
        foreach (var e in c.GetProperty("prf").EnumerateArray())
        {
            var options = new PrecisionRecallOptions
            {
                Average = Enum.Parse<Average>(e.GetProperty("average").GetString()!, ignoreCase: true),
                ZeroDivision = ParseZeroDivision(e.GetProperty("zero_division").GetString()!),
                PositiveLabel = e.GetProperty("pos_label").GetInt32(),
                Labels = labels,
            };
            double beta = e.GetProperty("beta").GetDouble();
            string what = $"{options.Average} zero_division={options.ZeroDivision} beta={beta} pos={options.PositiveLabel}";
            var s = ClassificationMetrics.PrecisionRecallFScore(y, pred, beta, options);
            Near(e.GetProperty("precision"), s.Precision, "precision " + what);
            Near(e.GetProperty("recall"), s.Recall, "recall " + what);
            Near(e.GetProperty("fscore"), s.FScore, "fscore " + what);
            if (beta == 1.0)
            {
                Near(e.GetProperty("precision"), ClassificationMetrics.Precision(y, pred, options), "Precision() " + what);
                Near(e.GetProperty("recall"), ClassificationMetrics.Recall(y, pred, options), "Recall() " + what);
                Near(e.GetProperty("fscore"), ClassificationMetrics.F1(y, pred, options), "F1() " + what);
            }
            else
                Near(e.GetProperty("fscore"), ClassificationMetrics.FBeta(y, pred, beta, options), "FBeta() " + what);
        }
        Near(c.GetProperty("f1_macro"), ClassificationMetrics.F1(y, pred, new PrecisionRecallOptions { Average = Average.Macro, Labels = labels }), "f1 macro");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void PerClassScoresEqualSklearn(string name)
    {
        var c = Case("classification", name);
        var (y, pred, _, _, labels) = Load(c);
        foreach (var e in c.GetProperty("per_class").EnumerateArray())
        {
            var zd = ParseZeroDivision(e.GetProperty("zero_division").GetString()!);
            var s = ClassificationMetrics.PerClass(y, pred, labels, 1.0, zd);
            Assert.Equal(labels, s.Labels);
            Near(Doubles(e.GetProperty("precision")), s.Precision, $"precision {zd}");
            Near(Doubles(e.GetProperty("recall")), s.Recall, $"recall {zd}");
            Near(Doubles(e.GetProperty("fscore")), s.FScore, $"fscore {zd}");
            Assert.Equal(Longs(e.GetProperty("support")), s.Support);
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void LogLossEqualsSklearnIncludingClipping(string name)
    {
        var c = Case("classification", name);
        var (y, _, proba, k, labels) = Load(c);
        Near(c.GetProperty("log_loss"), ClassificationMetrics.LogLoss(y, proba, k, labels), "log_loss");
        if (c.TryGetProperty("log_loss_binary_1d", out var binary))
        {
            var positive = Enumerable.Range(0, y.Length).Select(i => proba[i * 2 + 1]).ToArray();
            Near(binary, ClassificationMetrics.LogLoss(y, positive, labels), "log_loss 1-D");
        }
    }

    [Fact]
    public void BinaryScoresOfAnAbsentPositiveLabelFollowZeroDivisionWithInferredLabels()
    {
        // sklearn's precision_score([0]*10, [0]*10): pos_label 1 is absent, counts are 0, zero_division decides.
        var c = Case("classification", "binary_single_class");
        int[] y = Ints(c.GetProperty("y_true")), pred = Ints(c.GetProperty("y_pred"));
        foreach (var e in c.GetProperty("prf").EnumerateArray())
        {
            if (e.GetProperty("average").GetString() != "binary" || e.GetProperty("pos_label").GetInt32() != 1 || e.GetProperty("beta").GetDouble() != 1.0)
                continue;
            var zd = ParseZeroDivision(e.GetProperty("zero_division").GetString()!);
            var s = ClassificationMetrics.PrecisionRecallFScore(y, pred, 1.0, new PrecisionRecallOptions { ZeroDivision = zd });
            Near(e.GetProperty("precision"), s.Precision, $"precision {zd}");
            Near(e.GetProperty("recall"), s.Recall, $"recall {zd}");
            Near(e.GetProperty("fscore"), s.FScore, $"f1 {zd}");
        }
    }

    [Fact]
    public void LogLossOfCertainWrongPredictionIsMinusLogEpsilon()
    {
        // A probability of exactly 0 on the true class is clipped to eps: the loss is −log(eps), not ∞.
        double loss = ClassificationMetrics.LogLoss([1], [0.0], labels: [0, 1]);
        Assert.Equal(-Math.Log(ClassificationMetrics.MachineEpsilon), loss, 12);
        double custom = ClassificationMetrics.LogLoss([1], [0.0], labels: [0, 1], epsilon: 1e-15);
        Assert.Equal(-Math.Log(1e-15), custom, 12);
    }

    [Fact]
    public void ZeroDivisionNaNMarksUndefinedScoresAndAveragesSkipThem()
    {
        // Label 2 is in neither input: its precision, recall and F are undefined (NaN); macro averages the other two.
        int[] y = [0, 0, 1, 1], pred = [0, 1, 1, 1];
        var options = new PrecisionRecallOptions { Average = Average.Macro, Labels = [0, 1, 2], ZeroDivision = ZeroDivision.NaN };
        var perClass = ClassificationMetrics.PerClass(y, pred, [0, 1, 2], 1.0, ZeroDivision.NaN);
        Assert.True(double.IsNaN(perClass.Precision[2]) && double.IsNaN(perClass.Recall[2]) && double.IsNaN(perClass.FScore[2]));
        // class 0: P = 1/1, R = 1/2; class 1: P = 2/3, R = 2/2
        var macro = ClassificationMetrics.PrecisionRecallFScore(y, pred, 1.0, options);
        Assert.Equal((1.0 + 2.0 / 3) / 2, macro.Precision, 15);
        Assert.Equal((0.5 + 1.0) / 2, macro.Recall, 15);
        Assert.Equal((2.0 / 3 + 0.8) / 2, macro.FScore, 15);   // F0 = 2·1·½/1.5, F1 = 2·⅔·1/(5/3)
        // A never-predicted class with true samples: precision NaN, recall 0, F = 2tp/(2tp+fp+fn) = 0 (defined).
        var never = ClassificationMetrics.PerClass([0, 1], [0, 0], [0, 1], 1.0, ZeroDivision.NaN);
        Assert.True(double.IsNaN(never.Precision[1]));
        Assert.Equal(0.0, never.Recall[1]);
        Assert.Equal(0.0, never.FScore[1]);
        // Everything undefined: the average is NaN.
        var none = ClassificationMetrics.PrecisionRecallFScore([0], [0], 1.0,
            new PrecisionRecallOptions { Average = Average.Binary, PositiveLabel = 1, Labels = [0, 1], ZeroDivision = ZeroDivision.NaN });
        Assert.True(double.IsNaN(none.Precision) && double.IsNaN(none.Recall) && double.IsNaN(none.FScore));
    }

    [Fact]
    public void MismatchedLengthsAreNamedErrors()
    {
        var e = Assert.Throws<ArgumentException>(() => ClassificationMetrics.Accuracy([0, 1, 1], [0, 1]));
        Assert.Equal("yPred", e.ParamName);
        Assert.Contains("3", e.Message);
        Assert.Contains("2", e.Message);
    }

    [Fact]
    public void EmptyInputIsANamedError()
    {
        var e = Assert.Throws<ArgumentException>(() => ClassificationMetrics.F1([], [], new PrecisionRecallOptions { Average = Average.Macro }));
        Assert.Equal("yTrue", e.ParamName);
        Assert.Contains("empty", e.Message);
    }

    [Fact]
    public void LabelOutsideTheLabelSetIsAnErrorNamingValueAndPosition()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            ClassificationMetrics.F1([0, 1, 2], [0, 7, 1], new PrecisionRecallOptions { Average = Average.Macro, Labels = [0, 1, 2] }));
        Assert.Equal("yPred", e.ParamName);
        Assert.Contains("yPred[1] is 7", e.Message);
        Assert.Throws<ArgumentException>(() => ConfusionMatrix.Compute([0, 3], [0, 1], [0, 1, 2]));
        Assert.Throws<ArgumentException>(() => ClassificationMetrics.PerClass([0, 1], [0, 1], [0, 1, 1]));
    }

    [Fact]
    public void BinaryAverageRejectsMulticlassDataAndAnAbsentPositiveLabel()
    {
        var multi = Assert.Throws<ArgumentException>(() => ClassificationMetrics.F1([0, 1, 2], [0, 1, 2]));
        Assert.Contains("Macro", multi.Message);
        var pos = Assert.Throws<ArgumentException>(() =>
            ClassificationMetrics.F1([2, 3], [3, 2], new PrecisionRecallOptions { PositiveLabel = 1 }));
        Assert.Contains("PositiveLabel is 1", pos.Message);
    }

    [Fact]
    public void ProbabilityRowsThatDoNotSumToOneAreRejected()
    {
        var e = Assert.Throws<ArgumentException>(() => ClassificationMetrics.LogLoss([0, 1], [0.6, 0.6, 0.5, 0.5], 2));
        Assert.Equal("probabilities", e.ParamName);
        Assert.Contains("row 0", e.Message);
        Assert.Contains("1.2", e.Message);
        // within numpy's allclose tolerance (1e-8 + 1e-5·|s|) a row is accepted
        ClassificationMetrics.LogLoss([0, 1], [0.6 + 5e-6, 0.4, 0.5, 0.5], 2);
        var negative = Assert.Throws<ArgumentException>(() => ClassificationMetrics.LogLoss([0, 1], [1.5, -0.5, 0.5, 0.5], 2));
        Assert.Contains("[0, 1]", negative.Message);
        var nan = Assert.Throws<ArgumentException>(() => ClassificationMetrics.LogLoss([0, 1], [double.NaN, 0.5]));
        Assert.Contains("NaN", nan.Message);
    }

    [Fact]
    public void LogLossNeedsEveryColumnsLabel()
    {
        // y_true holds 2 labels but the matrix has 3 columns: the caller must pass the label set (sklearn raises too).
        var e = Assert.Throws<ArgumentException>(() => ClassificationMetrics.LogLoss([0, 1], [0.2, 0.3, 0.5, 0.1, 0.1, 0.8], 3));
        Assert.Contains("labels", e.Message);
        Assert.Equal(ClassificationMetrics.LogLoss([0, 1], [0.2, 0.3, 0.5, 0.1, 0.1, 0.8], 3, [0, 1, 2]),
            (-Math.Log(0.2) - Math.Log(0.1)) / 2, 12);
        Assert.Throws<ArgumentException>(() => ClassificationMetrics.LogLoss([1, 1], [0.3, 0.9]));
        Assert.Throws<ArgumentException>(() => ClassificationMetrics.LogLoss([0, 1], [0.5, 0.5, 0.5], 2));
    }

    [Fact]
    public void ConfusionMatrixIndexerChecksRowAndColumnSeparately()
    {
        var cm = ConfusionMatrix.Compute([0, 1, 2], [0, 2, 2], [0, 1, 2]);
        Assert.Equal(1, cm[1, 2]);
        Assert.Throws<ArgumentOutOfRangeException>(() => cm[0, 3]);   // flat index 3 would be row 1, column 0
        Assert.Throws<ArgumentOutOfRangeException>(() => cm[-1, 0]);
    }

    [Fact]
    public void FixtureWasMadeWithTheDocumentedSklearn()
    {
        Assert.Equal("1.2.1", Root.GetProperty("versions").GetProperty("sklearn").GetString());
    }
}

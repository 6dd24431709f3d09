// MultiLabelMetrics against scikit-learn 1.2.1 on indicator-matrix fixtures (one with a label that
// is never true and rows with no label).
using Loom.Evaluation.Metrics;
using static Loom.Evaluation.Tests.MetricFixtures;

namespace Loom.Evaluation.Tests.Metrics;

public sealed class MultiLabelMetricsTests
{
    public static TheoryData<string> Cases => Names("multilabel");

    [Theory]
    [MemberData(nameof(Cases))]
    public void MultiLabelMetricsEqualSklearn(string name)
    {
        var c = Case("multilabel", name);
        int l = c.GetProperty("num_labels").GetInt32();
        int[] y = Ints(c.GetProperty("y_true")), p = Ints(c.GetProperty("y_pred"));
        double[] s = Doubles(c.GetProperty("scores"));
        Near(c.GetProperty("subset_accuracy"), MultiLabelMetrics.SubsetAccuracy(y, p, l), "subset accuracy");
        Near(c.GetProperty("hamming_loss"), MultiLabelMetrics.HammingLoss(y, p, l), "hamming loss");
        foreach (var average in new[] { Average.Micro, Average.Macro, Average.Weighted, Average.Samples })
        {
            foreach (var (suffix, zd) in new[] { ("", ZeroDivision.Zero), ("_zd1", ZeroDivision.One) })
            {
                var e = c.GetProperty("prf_" + average.ToString().ToLowerInvariant() + suffix);
                var a = MultiLabelMetrics.PrecisionRecallFScore(y, p, l, average, 1.0, zd);
                Near(e.GetProperty("precision"), a.Precision, $"{average} {zd} precision");
                Near(e.GetProperty("recall"), a.Recall, $"{average} {zd} recall");
                Near(e.GetProperty("fscore"), a.FScore, $"{average} {zd} f1");
            }
        }
        var perLabel = MultiLabelMetrics.PerLabel(y, p, l, 1.0, ZeroDivision.Zero);
        var expected = c.GetProperty("per_label");
        Near(Doubles(expected.GetProperty("precision")), perLabel.Precision, "per-label precision");
        Near(Doubles(expected.GetProperty("recall")), perLabel.Recall, "per-label recall");
        Near(Doubles(expected.GetProperty("fscore")), perLabel.FScore, "per-label f1");
        Assert.Equal(Longs(expected.GetProperty("support")), perLabel.Support);
        if (c.TryGetProperty("roc_auc_macro", out var auc))
        {
            Near(auc, MultiLabelMetrics.RocAuc(y, s, l), "roc_auc macro");
            Near(Doubles(c.GetProperty("roc_auc_per_label")), MultiLabelMetrics.RocAucPerLabel(y, s, l), "roc_auc per label");
            Near(c.GetProperty("average_precision_macro"), MultiLabelMetrics.AveragePrecision(y, s, l), "ap macro");
            Near(c.GetProperty("average_precision_micro"), MultiLabelMetrics.AveragePrecision(y, s, l, Average.Micro), "ap micro");
        }
        else
            Assert.Contains("only negative samples", Assert.Throws<ArgumentException>(() => MultiLabelMetrics.RocAuc(y, s, l)).Message);
    }

    [Fact]
    public void BadIndicatorMatricesAreNamed()
    {
        Assert.Contains("yPred[1] is 2", Assert.Throws<ArgumentException>(() => MultiLabelMetrics.HammingLoss([0, 1], [0, 2], 2)).Message);
        Assert.Contains("not a multiple of labelCount 2", Assert.Throws<ArgumentException>(() => MultiLabelMetrics.HammingLoss([0, 1, 1], [0, 1, 1], 2)).Message);
        Assert.Equal("yPred", Assert.Throws<ArgumentException>(() => MultiLabelMetrics.SubsetAccuracy([0, 1], [0, 1, 0, 1], 2)).ParamName);
    }
}

// RankingMetrics, RocCurve and PrecisionRecallCurve against scikit-learn 1.2.1 (fixture vectors
// with and without tied scores), ROC-AUC also against an independent reference — the
// Mann–Whitney pair count, P(score⁺ > score⁻) + ½·P(tie) — and the errors bad input must raise.
using Loom.Evaluation.Metrics;
using static Loom.Evaluation.Tests.MetricFixtures;

namespace Loom.Evaluation.Tests.Metrics;

public sealed class RankingMetricsTests
{
    public static TheoryData<string> Cases => Names("classification");

    [Theory]
    [MemberData(nameof(Cases))]
    public void RankingMetricsAndCurvesEqualSklearn(string name)
    {
        var c = Case("classification", name);
        if (!c.TryGetProperty("ranking", out var r)) return;   // a class absent from y_true: sklearn raises too (tested below)
        int[] y = Ints(c.GetProperty("y_true")), labels = Ints(c.GetProperty("labels"));
        double[] proba = Doubles(c.GetProperty("probabilities"));
        int k = c.GetProperty("num_classes").GetInt32();
        if (k == 2)
        {
            double[] p1 = Column(proba, k, 1), p0 = Column(proba, k, 0);
            Near(r.GetProperty("roc_auc"), RankingMetrics.RocAuc(y, p1), "roc_auc");
            Near(r.GetProperty("average_precision"), RankingMetrics.AveragePrecision(y, p1), "average_precision");
            Near(r.GetProperty("average_precision_pos0"), RankingMetrics.AveragePrecision(y, p0, positiveLabel: 0), "average_precision pos_label=0");
            Near(r.GetProperty("pr_auc_trapezoid"), RankingMetrics.PrecisionRecallAucTrapezoid(y, p1), "auc(recall, precision)");
            foreach (var (key, drop) in new[] { ("roc_curve_drop", true), ("roc_curve_all", false) })
            {
                var roc = RocCurve.Compute(y, p1, dropIntermediate: drop);
                var e = r.GetProperty(key);
                Near(Doubles(e.GetProperty("fpr")), roc.FalsePositiveRate, key + " fpr");
                Near(Doubles(e.GetProperty("tpr")), roc.TruePositiveRate, key + " tpr");
                Near(Doubles(e.GetProperty("thresholds")), roc.Thresholds, key + " thresholds");
            }
            var pr = PrecisionRecallCurve.Compute(y, p1);
            var expected = r.GetProperty("pr_curve");
            Near(Doubles(expected.GetProperty("precision")), pr.Precision, "pr precision");
            Near(Doubles(expected.GetProperty("recall")), pr.Recall, "pr recall");
            Near(Doubles(expected.GetProperty("thresholds")), pr.Thresholds, "pr thresholds");
            Near(MannWhitney(y, p1, 1), RankingMetrics.RocAuc(y, p1), "roc_auc vs Mann-Whitney");
        }
        else
        {
            foreach (var average in new[] { Average.Macro, Average.Weighted, Average.Micro })
            {
                string key = average.ToString().ToLowerInvariant();
                Near(r.GetProperty("roc_auc_ovr_" + key), RankingMetrics.RocAucOneVsRest(y, proba, k, average, labels), "roc_auc ovr " + key);
                Near(r.GetProperty("roc_auc_ovr_" + key), RankingMetrics.RocAucOneVsRest(y, proba, k, average), "roc_auc ovr (labels inferred) " + key);
                Near(r.GetProperty("average_precision_ovr_" + key), RankingMetrics.AveragePrecisionOneVsRest(y, proba, k, average, labels), "ap ovr " + key);
            }
            double macro = Enumerable.Range(0, k).Average(j => MannWhitney(y, Column(proba, k, j), j));
            Near(macro, RankingMetrics.RocAucOneVsRest(y, proba, k, Average.Macro, labels), "ovr macro vs Mann-Whitney");
        }
    }

    [Fact]
    public void RocAucWithTiesCountsHalf()
    {
        // one positive tied with one negative, one positive above both: pairs (+a,-)=1, (+b,-)=½ → AUC 0.75
        Assert.Equal(0.75, RankingMetrics.RocAuc([1, 1, 0], [0.9, 0.5, 0.5]), 15);
        // all tied: 0.5
        Assert.Equal(0.5, RankingMetrics.RocAuc([1, 0, 1, 0], [0.3, 0.3, 0.3, 0.3]), 15);
    }

    [Fact]
    public void AucIsTheTrapezoidAndRejectsNonMonotonicX()
    {
        Assert.Equal(0.5, RankingMetrics.Auc([0, 1], [0, 1]), 15);
        Assert.Equal(1.0, RankingMetrics.Auc([1, 0.5, 0], [1, 1, 1]), 15);   // decreasing x: same area
        var e = Assert.Throws<ArgumentException>(() => RankingMetrics.Auc([0, 1, 0.5], [0, 1, 1]));
        Assert.Contains("neither increasing nor decreasing", e.Message);
        Assert.Throws<ArgumentException>(() => RankingMetrics.Auc([0], [0]));
    }

    [Fact]
    public void OneClassOnlyIsAClearError()
    {
        var e = Assert.Throws<ArgumentException>(() => RankingMetrics.RocAuc([1, 1, 1], [0.1, 0.2, 0.3]));
        Assert.Contains("only one class", e.Message);
        // one-vs-rest with a class absent from y_true (given the full label set): undefined for that class
        var ovr = Assert.Throws<ArgumentException>(() =>
            RankingMetrics.RocAucOneVsRest([0, 1, 0, 1], [0.5, 0.3, 0.2, 0.2, 0.5, 0.3, 0.6, 0.2, 0.2, 0.1, 0.8, 0.1], 3, Average.Macro, [0, 1, 2]));
        Assert.Contains("class 2", ovr.Message);
        // without labels the column count does not match the classes present
        var cols = Assert.Throws<ArgumentException>(() =>
            RankingMetrics.RocAucOneVsRest([0, 1, 0, 1], [0.5, 0.3, 0.2, 0.2, 0.5, 0.3, 0.6, 0.2, 0.2, 0.1, 0.8, 0.1], 3));
        Assert.Contains("classCount is 3", cols.Message);
    }

    [Fact]
    public void BadScoresAreNamedErrors()
    {
        Assert.Equal("scores", Assert.Throws<ArgumentException>(() => RankingMetrics.RocAuc([0, 1], [0.5, double.NaN])).ParamName);
        Assert.Equal("scores", Assert.Throws<ArgumentException>(() => RankingMetrics.RocAuc([0, 1], [0.5])).ParamName);
        var rows = Assert.Throws<ArgumentException>(() => RankingMetrics.RocAucOneVsRest([0, 1, 2], [1, 1, 1, 0, 1, 0, 0, 0, 1], 3));
        Assert.Contains("row 0", rows.Message);
        var shape = Assert.Throws<ArgumentException>(() => RankingMetrics.RocAucOneVsRest([0, 1, 2], [1, 0, 0, 0, 1, 0, 0, 0], 3));
        Assert.Contains("expected 9", shape.Message);
        Assert.Throws<ArgumentException>(() => RankingMetrics.AveragePrecision([0, 1, 2], [0.1, 0.2, 0.3]));
        Assert.Equal("positiveLabel", Assert.Throws<ArgumentException>(() => RankingMetrics.AveragePrecision([0, 1], [0.1, 0.2], 5)).ParamName);
    }

    private static double[] Column(double[] m, int k, int j) => Enumerable.Range(0, m.Length / k).Select(i => m[i * k + j]).ToArray();

    /// <summary>AUC as the Mann–Whitney statistic: the fraction of (positive, negative) pairs ranked right, ties ½.</summary>
    private static double MannWhitney(int[] y, double[] s, int positive)
    {
        double wins = 0, pairs = 0;
        for (int i = 0; i < y.Length; i++)
            for (int j = 0; j < y.Length; j++)
                if (y[i] == positive && y[j] != positive)
                {
                    pairs++;
                    wins += s[i] > s[j] ? 1 : s[i] == s[j] ? 0.5 : 0;
                }
        return wins / pairs;
    }
}

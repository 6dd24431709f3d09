// ClassificationReport: every number equals the sklearn fixture value of the same metric, the JSON
// is snake_case and round-trips, undefined metrics are null with a reason, and invalid class ids
// are named errors.
using System.Text.Json;
using Loom.Evaluation.Reports;
using static Loom.Evaluation.Tests.MetricFixtures;

namespace Loom.Evaluation.Tests.Reports;

public sealed class ClassificationReportTests
{
    [Theory]
    [InlineData("binary")]
    [InlineData("multi5_imbalanced")]
    public void ReportNumbersEqualSklearn(string name)
    {
        var c = Case("classification", name);
        int[] y = Ints(c.GetProperty("y_true")), pred = Ints(c.GetProperty("y_pred"));
        double[] proba = Doubles(c.GetProperty("probabilities"));
        int k = c.GetProperty("num_classes").GetInt32();
        var names = Enumerable.Range(0, k).Select(i => $"class_{i}").ToArray();
        var report = ClassificationReport.Create(y, pred, proba, names);

        Near(c.GetProperty("accuracy"), report.Accuracy, "accuracy");
        Near(c.GetProperty("mcc"), report.MatthewsCorrelation, "mcc");
        Near(c.GetProperty("log_loss"), report.LogLoss!.Value, "log loss");
        foreach (var e in c.GetProperty("prf").EnumerateArray())
        {
            if (e.GetProperty("beta").GetDouble() != 1.0 || e.GetProperty("zero_division").GetString() != "warn" || e.GetProperty("pos_label").GetInt32() != 1)
                continue;
            var scores = e.GetProperty("average").GetString() switch
            {
                "macro" => report.Macro,
                "micro" => report.Micro,
                "weighted" => report.Weighted,
                _ => report.Binary!.Value,
            };
            Near(e.GetProperty("fscore"), scores.FScore, "f1 " + e.GetProperty("average").GetString());
            Near(e.GetProperty("precision"), scores.Precision, "precision " + e.GetProperty("average").GetString());
        }
        var r = c.GetProperty("ranking");
        Near(k == 2 ? r.GetProperty("roc_auc") : r.GetProperty("roc_auc_ovr_macro"), report.RocAuc!.Value, "roc auc");
        Near(k == 2 ? r.GetProperty("average_precision") : r.GetProperty("average_precision_ovr_macro"), report.AveragePrecision!.Value, "average precision");
        var cm = Longs(c.GetProperty("confusion_matrix"));
        Assert.Equal(cm, report.ConfusionMatrix.SelectMany(row => row));
        Assert.Equal(y.Length, report.Calibration!.Counts.Sum());
    }

    [Fact]
    public void JsonIsSnakeCaseAndRoundTrips()
    {
        var report = ClassificationReport.Create([0, 1, 1, 0], [0, 1, 0, 0], [0.9, 0.1, 0.2, 0.8, 0.6, 0.4, 0.7, 0.3], ["neg", "pos"]);
        string json = report.ToJson();
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        foreach (string key in new[] { "sample_count", "label_names", "accuracy", "macro", "per_class", "confusion_matrix", "matthews_correlation", "log_loss", "roc_auc", "average_precision", "calibration", "warnings" })
            Assert.True(root.TryGetProperty(key, out _), $"missing \"{key}\" in {json}");
        Assert.Equal("pos", root.GetProperty("per_class")[1].GetProperty("name").GetString());
        Assert.True(root.GetProperty("macro").TryGetProperty("f_score", out _));
        var back = ClassificationReport.FromJson(json);
        Assert.Equal(report.Accuracy, back.Accuracy);
        Assert.Equal(report.RocAuc, back.RocAuc);
        Assert.Equal(report.ConfusionMatrix.SelectMany(r => r), back.ConfusionMatrix.SelectMany(r => r));
    }

    [Fact]
    public void AClassWithoutValidationSamplesGivesNullRankingMetricsAndAWarning()
    {
        // class "c" (2) never occurs in the labels: ROC-AUC is undefined, precision of "c" is ill-defined as it is never predicted either
        var report = ClassificationReport.Create([0, 1, 0, 1], [0, 1, 1, 1],
            [0.7, 0.2, 0.1, 0.2, 0.7, 0.1, 0.5, 0.4, 0.1, 0.1, 0.8, 0.1], ["a", "b", "c"]);
        Assert.Null(report.RocAuc);
        Assert.Null(report.AveragePrecision);
        Assert.Contains(report.Warnings, w => w.Contains("'c'") && w.Contains("ROC-AUC"));
        Assert.Contains(report.Warnings, w => w.Contains("precision of class 'c'"));
        Assert.NotNull(report.LogLoss);
        Assert.Contains("\"roc_auc\": null", report.ToJson());
    }

    [Fact]
    public void WithoutProbabilitiesOnlyLabelMetricsAreComputed()
    {
        var report = ClassificationReport.Create([0, 1, 2], [0, 1, 1], [], ["a", "b", "c"]);
        Assert.Null(report.LogLoss);
        Assert.Null(report.Calibration);
        Assert.Equal(2.0 / 3, report.Accuracy, 15);
    }

    [Fact]
    public void InvalidInputIsNamed()
    {
        var id = Assert.Throws<ArgumentException>(() => ClassificationReport.Create([0, 3], [0, 1], [], ["a", "b"]));
        Assert.Equal("labels", id.ParamName);
        Assert.Contains("labels[1] is 3", id.Message);
        Assert.Contains("a, b", id.Message);
        Assert.Equal("predictions", Assert.Throws<ArgumentException>(() => ClassificationReport.Create([0, 1], [0], [], ["a", "b"])).ParamName);
        Assert.Equal("probabilities", Assert.Throws<ArgumentException>(() => ClassificationReport.Create([0, 1], [0, 1], [0.5, 0.5], ["a", "b"])).ParamName);
        Assert.Equal("labelNames", Assert.Throws<ArgumentException>(() => ClassificationReport.Create([0], [0], [], ["a"])).ParamName);
    }

    [Fact]
    public void RegressionAndMultiLabelReportsMatchTheirMetrics()
    {
        var c = Case("regression", "regression");
        double[] y = Doubles(c.GetProperty("y_true")), p = Doubles(c.GetProperty("y_pred"));
        var regression = RegressionReport.Create(y, p);
        Near(c.GetProperty("r2"), regression.R2, "r2");
        Near(c.GetProperty("spearman"), regression.Spearman!.Value, "spearman");
        Assert.Contains("\"mean_squared_error\"", regression.ToJson());
        Assert.Null(RegressionReport.Create([1, 1, 1], [1, 2, 3]).Pearson);

        var m = Case("multilabel", "multilabel");
        int l = m.GetProperty("num_labels").GetInt32();
        var multi = MultiLabelReport.Create(Ints(m.GetProperty("y_true")), Ints(m.GetProperty("y_pred")), Doubles(m.GetProperty("scores")),
            Enumerable.Range(0, l).Select(j => $"l{j}").ToArray());
        Near(m.GetProperty("hamming_loss"), multi.HammingLoss, "hamming");
        Near(m.GetProperty("prf_micro").GetProperty("fscore"), multi.Micro.FScore, "micro f1");
        Near(m.GetProperty("roc_auc_macro"), multi.RocAucMacro!.Value, "roc auc macro");
        Assert.Contains("\"subset_accuracy\"", multi.ToJson());
    }
}

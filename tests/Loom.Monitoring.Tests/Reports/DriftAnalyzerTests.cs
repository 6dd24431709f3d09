// The analyzer on the shipped planted case (Shakespeare vs Shakespeare: no dataset drift; Shakespeare vs a half-SMS
// window: dataset drift with the text features named), and on a synthetic classifier log with a planted drop in
// accuracy (prediction, label and concept drift).
using Loom.Monitoring.Data;
using Loom.Monitoring.Reports;

namespace Loom.Monitoring.Tests.Reports;

public sealed class DriftAnalyzerTests
{
    private static readonly (Table Reference, Table Same, Table Mixed) Planted = PlantedCase.Build();

    [Fact]
    public async Task Shakespeare_against_more_shakespeare_shows_no_dataset_drift()
    {
        var report = await DriftAnalyzer.AnalyzeAsync(Planted.Reference, Planted.Same);
        Assert.False(report.DatasetDrift, "drifted: " + string.Join(", ", report.DriftedFeatures));
        Assert.DoesNotContain("text:embedding", report.DriftedFeatures);
        Assert.DoesNotContain("text:tokens", report.DriftedFeatures);
        Assert.Equal(["text:chars", "text:embedding", "text:language", "text:oov_rate", "text:tokens", "text:words"], report.Features.Select(f => f.Name).Order());
    }

    [Fact]
    public async Task A_window_half_of_sms_drifts_and_names_the_drifting_text_features()
    {
        var report = await DriftAnalyzer.AnalyzeAsync(Planted.Reference, Planted.Mixed);
        Assert.True(report.DatasetDrift);
        foreach (var name in new[] { "text:embedding", "text:tokens", "text:oov_rate", "text:chars" }) Assert.Contains(name, report.DriftedFeatures);
        var chars = report.Features.Single(f => f.Name == "text:chars");
        Assert.Equal("ks", chars.Test);                    // ≤ 1,000 reference rows, many values: Evidently picks KS
        Assert.True(chars.PValue < 0.05);
        Assert.Equal(10, report.TimeSeries.Count);
    }

    private static Table Classifier(int n, double accuracy, double positiveShare, int seed, DateTimeOffset start)
    {
        var rng = new Random(seed);
        var label = new string?[n];
        var pred = new string?[n];
        var score = new double?[n];
        var time = new string?[n];
        for (int i = 0; i < n; i++)
        {
            label[i] = rng.NextDouble() < positiveShare ? "pos" : "neg";
            bool right = rng.NextDouble() < accuracy;
            pred[i] = right ? label[i] : (label[i] == "pos" ? "neg" : "pos");
            score[i] = pred[i] == "pos" ? 0.5 + rng.NextDouble() / 2 : rng.NextDouble() / 2;
            time[i] = (start + TimeSpan.FromMinutes(i)).ToString("O");
        }
        return new Table("synthetic", [
            new Column("prediction", pred, new double?[n]), new Column("label", label, new double?[n]),
            new Column("score", score.Select(s => s?.ToString("R")).ToArray(), score), new Column("time", time, new double?[n])],
            n, time.Select(t => (DateTimeOffset?)DateTimeOffset.Parse(t!)).ToArray());
    }

    [Fact]
    public async Task A_planted_accuracy_drop_is_concept_drift_and_shifted_classes_are_prediction_and_label_drift()
    {
        var t0 = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var reference = Classifier(800, 0.92, 0.5, 1, t0);
        // current: 300 rows like the reference, then 300 with accuracy 0.75 and 90% positives (predicted positive:
        // 0.9·0.75 + 0.1·0.25 = 70%, so 60% over the window against 50%)
        var before = Classifier(300, 0.92, 0.5, 2, t0.AddDays(1));
        var after = Classifier(300, 0.75, 0.9, 3, t0.AddDays(1).AddMinutes(300));
        var current = new Table("current", before.Columns.Select((c, k) => new Column(c.Name, c.Cells.Concat(after.Columns[k].Cells).ToArray(), c.Numbers.Concat(after.Columns[k].Numbers).ToArray())).ToList(),
            600, before.Times!.Concat(after.Times!).ToArray());
        var report = await DriftAnalyzer.AnalyzeAsync(reference, current, new MonitorOptions { Window = TimeSpan.FromMinutes(100) });
        var concept = Assert.IsType<ConceptDriftResult>(report.Concept);
        Assert.True(concept.Drifted);
        Assert.All(concept.DdmDetections, row => Assert.True(row >= 300, $"DDM fired at row {row}, before the planted change at 300"));
        Assert.InRange(concept.ReferenceAccuracy, 0.89, 0.95);
        Assert.InRange(concept.CurrentAccuracy, 0.78, 0.89);
        Assert.Equal(ColumnRole.Prediction, report.Features.Single(f => f.Name == "prediction").Role);
        Assert.True(report.Features.Single(f => f.Name == "prediction").Drifted);
        Assert.True(report.Features.Single(f => f.Name == "label").Drifted);
        Assert.Equal(ColumnRole.Label, report.Features.Single(f => f.Name == "label").Role);
        Assert.Equal(6, report.TimeSeries.Count);            // 600 minutes in 100-minute windows
        Assert.True(report.TimeSeries[0].Accuracy > 0.85 && report.TimeSeries[5].Accuracy < 0.85);
        Assert.Contains("label", report.TimeSeries[5].DriftedFeatures);     // 90% positives against 50%
    }
}

// The metrics of a regression head (num_labels: 1) in one record: MSE, MAE, R², Pearson and
// Spearman (see RegressionMetrics). Correlations are null when an input is constant (undefined).
using System.Text.Json;
using Loom.Evaluation.Metrics;

namespace Loom.Evaluation.Reports;

/// <summary>Regression metrics of predictions against targets, as scikit-learn and scipy.</summary>
public sealed record RegressionReport(int SampleCount, double MeanSquaredError, double MeanAbsoluteError, double R2, double? Pearson, double? Spearman)
{
    /// <summary>Computes the report (at least two samples).</summary>
    public static RegressionReport Create(ReadOnlySpan<double> targets, ReadOnlySpan<double> predictions)
        => new(targets.Length,
            RegressionMetrics.MeanSquaredError(targets, predictions),
            RegressionMetrics.MeanAbsoluteError(targets, predictions),
            RegressionMetrics.R2(targets, predictions),
            ReportJson.Defined(RegressionMetrics.Pearson(targets, predictions)),
            ReportJson.Defined(RegressionMetrics.Spearman(targets, predictions)));

    /// <summary>The report as indented snake_case JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, ReportJson.Options);
}

// The metrics of a multi-label head (problem_type: multi_label_classification) in one record:
// subset accuracy, Hamming loss, micro/macro/weighted/samples F-scores, per-label scores and,
// given scores, macro ROC-AUC and average precision (null when a label is never or always true).
using System.Text.Json;
using Loom.Evaluation.Metrics;

namespace Loom.Evaluation.Reports;

/// <summary>Multi-label metrics over (samples × labels) 0/1 indicator matrices, as scikit-learn.</summary>
public sealed record MultiLabelReport
{
    /// <summary>Number of evaluated samples.</summary>
    public required int SampleCount { get; init; }
    /// <summary>Label names, index = column.</summary>
    public required string[] LabelNames { get; init; }
    /// <summary>Fraction of samples whose whole label row is right (<c>accuracy_score</c>).</summary>
    public required double SubsetAccuracy { get; init; }
    /// <summary>Fraction of wrong (sample, label) entries (<c>hamming_loss</c>).</summary>
    public required double HammingLoss { get; init; }
    /// <summary><c>average="micro"</c>.</summary>
    public required AveragedScores Micro { get; init; }
    /// <summary><c>average="macro"</c>.</summary>
    public required AveragedScores Macro { get; init; }
    /// <summary><c>average="weighted"</c> (by label support).</summary>
    public required AveragedScores Weighted { get; init; }
    /// <summary><c>average="samples"</c>.</summary>
    public required AveragedScores Samples { get; init; }
    /// <summary>Per-label scores, in column order.</summary>
    public required ClassReport[] PerLabel { get; init; }
    /// <summary>Macro ROC-AUC over labels; null without scores or when a label is never or always true.</summary>
    public double? RocAucMacro { get; init; }
    /// <summary>Macro average precision over labels; null without scores.</summary>
    public double? AveragePrecisionMacro { get; init; }
    /// <summary>Why a metric is null.</summary>
    public required string[] Warnings { get; init; }

    /// <summary>
    /// Computes the report. <paramref name="targets"/> and <paramref name="predictions"/> are 0/1, row-major
    /// (samples × labelNames.Count); <paramref name="scores"/> (same shape, e.g. sigmoid outputs) may be empty.
    /// </summary>
    public static MultiLabelReport Create(ReadOnlySpan<int> targets, ReadOnlySpan<int> predictions, ReadOnlySpan<double> scores,
        IReadOnlyList<string> labelNames)
    {
        ArgumentNullException.ThrowIfNull(labelNames);
        int l = labelNames.Count;
        var perLabel = MultiLabelMetrics.PerLabel(targets, predictions, l);
        var rows = new ClassReport[l];
        var warnings = new List<string>();
        bool rankable = true;
        for (int j = 0; j < l; j++)
        {
            rows[j] = new ClassReport(j, labelNames[j], perLabel.Precision[j], perLabel.Recall[j], perLabel.FScore[j], perLabel.Support[j], perLabel.Predicted[j]);
            long n = targets.Length / l;
            if (perLabel.Support[j] == 0 || perLabel.Support[j] == n)
            {
                rankable = false;
                warnings.Add($"label '{labelNames[j]}' is {(perLabel.Support[j] == 0 ? "never" : "always")} true: ROC-AUC is undefined");
            }
        }
        double? rocAuc = null, averagePrecision = null;
        if (!scores.IsEmpty)
        {
            averagePrecision = MultiLabelMetrics.AveragePrecision(targets, scores, l, Average.Macro);
            if (rankable) rocAuc = MultiLabelMetrics.RocAuc(targets, scores, l, Average.Macro);
        }
        return new MultiLabelReport
        {
            SampleCount = targets.Length / l,
            LabelNames = [.. labelNames],
            SubsetAccuracy = MultiLabelMetrics.SubsetAccuracy(targets, predictions, l),
            HammingLoss = MultiLabelMetrics.HammingLoss(targets, predictions, l),
            Micro = MultiLabelMetrics.PrecisionRecallFScore(targets, predictions, l, Average.Micro),
            Macro = MultiLabelMetrics.PrecisionRecallFScore(targets, predictions, l, Average.Macro),
            Weighted = MultiLabelMetrics.PrecisionRecallFScore(targets, predictions, l, Average.Weighted),
            Samples = MultiLabelMetrics.PrecisionRecallFScore(targets, predictions, l, Average.Samples),
            PerLabel = rows,
            RocAucMacro = rocAuc,
            AveragePrecisionMacro = averagePrecision,
            Warnings = [.. warnings],
        };
    }

    /// <summary>The report as indented snake_case JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, ReportJson.Options);
}

// Everything a fine-tune run reports about a single-label classifier on its validation (or test)
// set, computed in one call from class ids, predictions, probabilities and label names, and written
// as snake_case JSON. Each number is the scikit-learn metric named in its doc comment (see
// ClassificationMetrics, RankingMetrics, CalibrationCurve). Metrics that are undefined on this data
// (ROC-AUC when a class has no validation sample, anything from probabilities when none were given)
// are null, and the reason is in Warnings — the report never throws for a legitimately small or
// skewed validation set; it throws only for invalid input (ArgumentException naming the argument).
using System.Text.Json;
using Loom.Evaluation.Calibration;
using Loom.Evaluation.Metrics;

namespace Loom.Evaluation.Reports;

/// <summary>The metrics of a single-label classifier (labels are class ids 0..K−1, K = number of label names).</summary>
public sealed record ClassificationReport
{
    /// <summary>Number of evaluated samples.</summary>
    public required int SampleCount { get; init; }

    /// <summary>Label names (id2label), index = class id.</summary>
    public required string[] LabelNames { get; init; }

    /// <summary><c>accuracy_score</c>.</summary>
    public required double Accuracy { get; init; }

    /// <summary>Binary precision/recall/F1 of class 1 (only for two classes; <c>average="binary"</c>).</summary>
    public AveragedScores? Binary { get; init; }

    /// <summary><c>average="macro"</c>.</summary>
    public required AveragedScores Macro { get; init; }

    /// <summary><c>average="micro"</c> (equals accuracy for single-label data).</summary>
    public required AveragedScores Micro { get; init; }

    /// <summary><c>average="weighted"</c> (by support).</summary>
    public required AveragedScores Weighted { get; init; }

    /// <summary>Per-class scores (<c>average=None</c>), in class-id order.</summary>
    public required ClassReport[] PerClass { get; init; }

    /// <summary>Rows = true class, columns = predicted class, in class-id order.</summary>
    public required long[][] ConfusionMatrix { get; init; }

    /// <summary><c>matthews_corrcoef</c>.</summary>
    public required double MatthewsCorrelation { get; init; }

    /// <summary><c>log_loss</c> (eps = float64 machine epsilon); null without probabilities.</summary>
    public double? LogLoss { get; init; }

    /// <summary>Binary <c>roc_auc_score</c>, or one-vs-rest macro for more classes; null when undefined.</summary>
    public double? RocAuc { get; init; }

    /// <summary>One-vs-rest ROC-AUC weighted by support (more than two classes only).</summary>
    public double? RocAucWeighted { get; init; }

    /// <summary>PR-AUC as <c>average_precision_score</c> (binary: of class 1; more classes: one-vs-rest macro).</summary>
    public double? AveragePrecision { get; init; }

    /// <summary>Reliability diagram (10 uniform bins) of P(class 1), or top-label for more than two classes.</summary>
    public CalibrationCurve? Calibration { get; init; }

    /// <summary>Why a metric is null or was set by the zero-division rule.</summary>
    public required string[] Warnings { get; init; }

    /// <summary>Bins of the calibration diagram.</summary>
    public const int CalibrationBins = 10;

    /// <summary>
    /// Computes the report. <paramref name="labels"/> and <paramref name="predictions"/> are class ids in
    /// 0..labelNames.Count−1; <paramref name="probabilities"/> is (samples × classes) row-major with rows summing to 1,
    /// or empty when the model gives none.
    /// </summary>
    public static ClassificationReport Create(ReadOnlySpan<int> labels, ReadOnlySpan<int> predictions, ReadOnlySpan<double> probabilities,
        IReadOnlyList<string> labelNames)
    {
        ArgumentNullException.ThrowIfNull(labelNames);
        int k = labelNames.Count;
        if (k < 2)
            throw new ArgumentException($"labelNames has {k} name(s): classification needs at least two classes (use RegressionReport for num_labels 1).", nameof(labelNames));
        int[] classIds = Enumerable.Range(0, k).ToArray();
        if (labels.IsEmpty) throw new ArgumentException("labels is empty: there are no samples to evaluate.", nameof(labels));
        if (labels.Length != predictions.Length)
            throw new ArgumentException($"labels has {labels.Length} elements but predictions has {predictions.Length}: they must describe the same samples.", nameof(predictions));
        CheckIds(labels, k, labelNames, nameof(labels));
        CheckIds(predictions, k, labelNames, nameof(predictions));

        var warnings = new List<string>();
        var cm = Metrics.ConfusionMatrix.Compute(labels, predictions, classIds);
        var perClass = ClassificationMetrics.PerClass(labels, predictions, classIds);
        var rows = new ClassReport[k];
        for (int c = 0; c < k; c++)
        {
            rows[c] = new ClassReport(c, labelNames[c], perClass.Precision[c], perClass.Recall[c], perClass.FScore[c], perClass.Support[c], perClass.Predicted[c]);
            if (perClass.Predicted[c] == 0) warnings.Add($"precision of class '{labelNames[c]}' is ill-defined (never predicted) and set to 0");
            if (perClass.Support[c] == 0) warnings.Add($"recall of class '{labelNames[c]}' is ill-defined (no true samples) and set to 0");
        }
        PrecisionRecallOptions Options(Average a) => new() { Average = a, Labels = classIds };

        double? logLoss = null, rocAuc = null, rocAucWeighted = null, averagePrecision = null;
        CalibrationCurve? calibration = null;
        if (probabilities.IsEmpty)
            warnings.Add("no probabilities: log loss, ROC-AUC, average precision and calibration are not computed");
        else
        {
            if ((long)labels.Length * k != probabilities.Length)
                throw new ArgumentException(
                    $"probabilities has {probabilities.Length} values but there are {labels.Length} samples and {k} classes: expected {(long)labels.Length * k} (row-major).", nameof(probabilities));
            logLoss = ClassificationMetrics.LogLoss(labels, probabilities, k, classIds);
            int[] missing = classIds.Where(c => perClass.Support[c] == 0).ToArray();
            if (k == 2)
            {
                var positive = new double[labels.Length];
                for (int i = 0; i < positive.Length; i++) positive[i] = probabilities[i * 2 + 1];
                if (missing.Length == 0)
                {
                    rocAuc = RankingMetrics.RocAuc(labels, positive);
                    averagePrecision = RankingMetrics.AveragePrecision(labels, positive, 1);
                }
                calibration = CalibrationCurve.Compute(labels, positive, CalibrationBins);
            }
            else
            {
                if (missing.Length == 0)
                {
                    rocAuc = RankingMetrics.RocAucOneVsRest(labels, probabilities, k, Average.Macro, classIds);
                    rocAucWeighted = RankingMetrics.RocAucOneVsRest(labels, probabilities, k, Average.Weighted, classIds);
                    averagePrecision = RankingMetrics.AveragePrecisionOneVsRest(labels, probabilities, k, Average.Macro, classIds);
                }
                calibration = CalibrationCurve.TopLabel(labels, probabilities, k, CalibrationBins);
            }
            if (missing.Length > 0)
                warnings.Add($"ROC-AUC and average precision are undefined: class(es) {string.Join(", ", missing.Select(c => $"'{labelNames[c]}'"))} have no samples");
        }

        return new ClassificationReport
        {
            SampleCount = labels.Length,
            LabelNames = [.. labelNames],
            Accuracy = ClassificationMetrics.Accuracy(labels, predictions),
            Binary = k == 2 ? ClassificationMetrics.PrecisionRecallFScore(labels, predictions, 1.0, Options(Average.Binary)) : null,
            Macro = ClassificationMetrics.PrecisionRecallFScore(labels, predictions, 1.0, Options(Average.Macro)),
            Micro = ClassificationMetrics.PrecisionRecallFScore(labels, predictions, 1.0, Options(Average.Micro)),
            Weighted = ClassificationMetrics.PrecisionRecallFScore(labels, predictions, 1.0, Options(Average.Weighted)),
            PerClass = rows,
            ConfusionMatrix = cm.ToRows(),
            MatthewsCorrelation = ClassificationMetrics.MatthewsCorrelation(cm),
            LogLoss = logLoss,
            RocAuc = rocAuc,
            RocAucWeighted = rocAucWeighted,
            AveragePrecision = averagePrecision,
            Calibration = calibration,
            Warnings = [.. warnings],
        };
    }

    /// <summary>The report as indented snake_case JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, ReportJson.Options);

    /// <summary>Reads a report written by <see cref="ToJson"/>.</summary>
    public static ClassificationReport FromJson(string json)
        => JsonSerializer.Deserialize<ClassificationReport>(json, ReportJson.Options)
           ?? throw new JsonException("the classification report JSON is null.");

    private static void CheckIds(ReadOnlySpan<int> ids, int k, IReadOnlyList<string> names, string name)
    {
        for (int i = 0; i < ids.Length; i++)
            if ((uint)ids[i] >= (uint)k)
                throw new ArgumentException(
                    $"{name}[{i}] is {ids[i]}, outside the label set 0..{k - 1} ({string.Join(", ", names)}): fix the label or add it to id2label.", name);
    }
}

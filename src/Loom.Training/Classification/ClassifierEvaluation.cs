// Runs a sequence classifier over a dataset (no gradients, dropout off) and scores it with
// Loom.Evaluation, whose metrics equal scikit-learn's on committed vectors. Also keeps each
// example's probabilities and loss, for the worst-classified table and the reliability diagram.
// Per-example losses are computed here in double from the scores, as the heads define them
// (Hugging Face's *ForSequenceClassification): softmax cross-entropy, BCE-with-logits per label
// (mean over labels), MSE (mean over targets); the evaluation loss is their mean.
using Loom.Evaluation.Reports;
using Loom.Models;
using Loom.Models.Classification;

namespace Loom.Training.Classification;

/// <summary>What one evaluation measured.</summary>
public sealed class ClassifierEvaluation
{
    /// <summary>Metric name → value (loss, accuracy, f1, ..., or mse, mae, r2); undefined metrics are absent.</summary>
    public required IReadOnlyDictionary<string, double> Metrics { get; init; }
    /// <summary>Probabilities (N × K: softmax or sigmoid) or regression outputs, in dataset order.</summary>
    public required double[] Outputs { get; init; }
    /// <summary>Loss of each example.</summary>
    public required double[] Losses { get; init; }
    /// <summary>Predicted class (single-label), else −1.</summary>
    public required int[] Predictions { get; init; }
    public ClassificationReport? Classification { get; init; }
    public MultiLabelReport? MultiLabel { get; init; }
    public RegressionReport? Regression { get; init; }

    /// <summary>The metric names an evaluation of a <paramref name="type"/> problem can report (metric_for_best_model must be one).</summary>
    public static IReadOnlyList<string> MetricNames(ProblemType type) => type switch
    {
        ProblemType.SingleLabel => ["loss", "accuracy", "precision", "recall", "f1", "precision_macro", "recall_macro", "f1_macro", "precision_micro", "recall_micro", "f1_micro",
            "precision_weighted", "recall_weighted", "f1_weighted", "mcc", "log_loss", "roc_auc", "pr_auc"],
        ProblemType.MultiLabel => ["loss", "subset_accuracy", "hamming_loss", "f1", "precision_micro", "recall_micro", "f1_micro", "precision_macro", "recall_macro", "f1_macro",
            "precision_weighted", "recall_weighted", "f1_weighted", "precision_samples", "recall_samples", "f1_samples", "roc_auc", "pr_auc"],
        _ => ["loss", "mse", "mae", "r2", "pearson", "spearman"],
    };

    /// <summary>Evaluates <paramref name="model"/> on <paramref name="data"/> (which must carry targets).</summary>
    public static ClassifierEvaluation Run(ISequenceClassificationModel model, ClassificationDataset data, LabelSet labels, FineTuneOptions options, CancellationToken ct = default)
    {
        int n = data.Examples.Count, k = model.NumLabels;
        var outputs = Predict(model, data, options, ct);
        var losses = new double[n];
        var predictions = new int[n];
        var metrics = new Dictionary<string, double>(StringComparer.Ordinal);
        var type = model.ProblemType;
        ClassificationReport? cls = null;
        MultiLabelReport? multi = null;
        RegressionReport? reg = null;
        if (type == ProblemType.SingleLabel)
        {
            var probs = new double[n * k];
            var truth = new int[n];
            for (int i = 0; i < n; i++)
            {
                var row = outputs.AsSpan(i * k, k);
                Softmax(row, probs.AsSpan(i * k, k));
                truth[i] = data.Examples[i].Class;
                predictions[i] = ArgMax(probs.AsSpan(i * k, k));
                losses[i] = -Math.Log(Math.Max(probs[i * k + truth[i]], 1e-300));
            }
            cls = ClassificationReport.Create(truth, predictions, probs, labels.Names);
            metrics["accuracy"] = cls.Accuracy;
            var main = cls.Binary ?? cls.Macro;
            metrics["precision"] = main.Precision;
            metrics["recall"] = main.Recall;
            metrics["f1"] = main.FScore;
            foreach (var (name, s) in new[] { ("macro", cls.Macro), ("micro", cls.Micro), ("weighted", cls.Weighted) })
            {
                metrics["precision_" + name] = s.Precision;
                metrics["recall_" + name] = s.Recall;
                metrics["f1_" + name] = s.FScore;
            }
            metrics["mcc"] = cls.MatthewsCorrelation;
            if (cls.LogLoss is { } ll) metrics["log_loss"] = ll;
            if (cls.RocAuc is { } auc) metrics["roc_auc"] = auc;
            if (cls.AveragePrecision is { } ap) metrics["pr_auc"] = ap;
            outputs = probs;
        }
        else if (type == ProblemType.MultiLabel)
        {
            var probs = new double[n * k];
            var truth = new int[n * k];
            var predicted = new int[n * k];
            for (int i = 0; i < n; i++)
            {
                double sum = 0;
                for (int j = 0; j < k; j++)
                {
                    double z = outputs[i * k + j], y = data.Examples[i].Targets![j];
                    probs[i * k + j] = 1 / (1 + Math.Exp(-z));
                    truth[i * k + j] = y >= 0.5 ? 1 : 0;
                    predicted[i * k + j] = probs[i * k + j] > 0.5 ? 1 : 0;
                    // BCE with logits, stable form: max(z,0) − z·y + log(1 + e^−|z|)
                    sum += Math.Max(z, 0) - z * y + Math.Log(1 + Math.Exp(-Math.Abs(z)));
                }
                losses[i] = sum / k;
                predictions[i] = -1;
            }
            multi = MultiLabelReport.Create(truth, predicted, probs, labels.Names);
            metrics["subset_accuracy"] = multi.SubsetAccuracy;
            metrics["hamming_loss"] = multi.HammingLoss;
            foreach (var (name, s) in new[] { ("micro", multi.Micro), ("macro", multi.Macro), ("weighted", multi.Weighted), ("samples", multi.Samples) })
            {
                metrics["precision_" + name] = s.Precision;
                metrics["recall_" + name] = s.Recall;
                metrics["f1_" + name] = s.FScore;
            }
            metrics["f1"] = multi.Micro.FScore;
            if (multi.RocAucMacro is { } auc) metrics["roc_auc"] = auc;
            if (multi.AveragePrecisionMacro is { } ap) metrics["pr_auc"] = ap;
            outputs = probs;
        }
        else
        {
            var truth = new double[n * k];
            for (int i = 0; i < n; i++)
            {
                double sum = 0;
                for (int j = 0; j < k; j++)
                {
                    truth[i * k + j] = data.Examples[i].Targets![j];
                    double d = outputs[i * k + j] - truth[i * k + j];
                    sum += d * d;
                }
                losses[i] = sum / k;
                predictions[i] = -1;
            }
            if (n * k >= 2)
            {
                reg = RegressionReport.Create(truth, outputs);
                metrics["mse"] = reg.MeanSquaredError;
                metrics["mae"] = reg.MeanAbsoluteError;
                metrics["r2"] = reg.R2;
                if (reg.Pearson is { } p) metrics["pearson"] = p;
                if (reg.Spearman is { } s) metrics["spearman"] = s;
            }
        }
        metrics["loss"] = losses.Average();
        foreach (var key in metrics.Where(kv => !double.IsFinite(kv.Value)).Select(kv => kv.Key).ToList()) metrics.Remove(key);
        return new ClassifierEvaluation
        {
            Metrics = metrics, Outputs = outputs, Losses = losses, Predictions = predictions,
            Classification = cls, MultiLabel = multi, Regression = reg,
        };
    }

    /// <summary>
    /// The raw scores (N × num_labels, logits or regression outputs) of every example, in dataset order,
    /// from batches padded to their longest; the model is put in evaluation mode.
    /// </summary>
    public static double[] Predict(ISequenceClassificationModel model, ClassificationDataset data, FineTuneOptions options, CancellationToken ct = default)
    {
        int n = data.Examples.Count, k = model.NumLabels;
        var outputs = new double[n * k];
        if (model is ITrainingMode mode) mode.IsTraining = false;
        int batchSize = options.EvalBatchSize > 0 ? options.EvalBatchSize : options.BatchSize;
        var batches = new ClassificationBatches(data.Examples, batchSize, options.MaxLength, data.PadId, k, bucketed: options.LengthBucketing, padToMax: options.PadToMaxLength, seed: 0);
        foreach (var batch in batches.Plan(0, shuffle: false))
        {
            ct.ThrowIfCancellationRequested();
            batches.Fill(batch);
            model.Forward(batches.Batch, default);
            var scores = model.Scores;
            for (int r = 0; r < batch.Length; r++)
                for (int j = 0; j < k; j++) outputs[batch[r] * k + j] = scores[r * k + j];
        }
        return outputs;
    }

    private static void Softmax(ReadOnlySpan<double> z, Span<double> p)
    {
        double max = double.NegativeInfinity;
        foreach (var v in z) max = Math.Max(max, v);
        double sum = 0;
        for (int i = 0; i < z.Length; i++) sum += p[i] = Math.Exp(z[i] - max);
        for (int i = 0; i < z.Length; i++) p[i] /= sum;
    }

    private static int ArgMax(ReadOnlySpan<double> p)
    {
        int best = 0;
        for (int i = 1; i < p.Length; i++) if (p[i] > p[best]) best = i;
        return best;
    }
}

// The fine-tuning loop for sequence classifiers (Hugging Face's Trainer, as a library): epochs of
// seeded, dynamically padded (optionally length-bucketed) batches; gradient accumulation; AdamW with
// warmup then linear or cosine decay (Devlin et al. 2019, §A.3; Loshchilov & Hutter 2019);
// global-norm clipping; bf16/fp16 through MixedPrecision; activation checkpointing; evaluation every
// N steps and at each epoch end with Loom.Evaluation's metrics; the best model by
// metric_for_best_model (greater_is_better as HF decides it) and early stopping by patience;
// crash-safe checkpoints after every evaluation and a bit-identical resume. Steps never cross an epoch
// boundary (an epoch's last step may accumulate fewer micro-batches), so the step count alone says
// where in the data a resumed run continues. The output is a Hugging Face directory (model/) holding
// the best weights and the tokenizer, metrics.jsonl and report.html.
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Loom.Core.IO;
using Loom.Models;
using Loom.Models.Classification;
using Loom.Training.Checkpoints;
using Loom.Training.Loop;
using Loom.Training.Optimizers;
using Loom.Training.Precision;
using Loom.Training.Reporting;

namespace Loom.Training.Classification;

/// <summary>Fine-tunes an <see cref="ISequenceClassificationModel"/>.</summary>
public static class FineTuning
{
    private static readonly JsonSerializerOptions Json = new() { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    /// <summary>
    /// Trains <paramref name="model"/> on <paramref name="train"/>, evaluating on <paramref name="validation"/>;
    /// writes metrics.jsonl, checkpoints/, model/ (the best weights, with <paramref name="tokenizer"/>'s files) and
    /// report.html into <paramref name="outputDirectory"/>. With <paramref name="resumeFrom"/> (a checkpoint of this
    /// run) the parameters, optimizer, loss scale and position are restored and the run continues as if never stopped.
    /// </summary>
    public static FineTuneResult Train(ISequenceClassificationModel model, ClassificationDataset train, ClassificationDataset validation, LabelSet labels,
        FineTuneOptions options, string outputDirectory, SequenceEncoder? tokenizer = null, IProgress<FineTuneProgress>? progress = null,
        string? resumeFrom = null, IReadOnlyDictionary<string, string>? fixedSettings = null, CancellationToken ct = default)
    {
        options.Validate();
        Check(model, train, validation, labels, options);
        if (resumeFrom == null) RunDirectory.EnsureNoRun(outputDirectory);
        Directory.CreateDirectory(outputDirectory);
        if (options.ActivationCheckpointing || model.ActivationCheckpointing) model.ActivationCheckpointing = options.ActivationCheckpointing;
        var type = model.ProblemType;
        var batches = new ClassificationBatches(train.Examples, options.BatchSize, options.MaxLength, train.PadId, labels.Count, options.LengthBucketing, options.PadToMaxLength, options.Seed);
        int stepsPerEpoch = (batches.BatchesPerEpoch + options.GradientAccumulation - 1) / options.GradientAccumulation;
        int maxSteps = checked(options.Epochs * stepsPerEpoch);
        int warmup = (int)Math.Ceiling(options.WarmupRatio * maxSteps);
        var settings = FixedSettings(options, fixedSettings);
        string checkpoints = Path.Combine(outputDirectory, "checkpoints");
        string metricsPath = Path.Combine(outputDirectory, "metrics.jsonl");

        using var optimizer = new AdamWOptimizer(model.Parameters, new AdamWOptions { LearningRate = options.LearningRate, WeightDecay = options.WeightDecay });
        using var precision = new MixedPrecision(model.Parameters, options.Precision, options.LossScaling);
        int step = 0;
        if (resumeFrom != null)
        {
            var saved = TrainingCheckpoint.ReadState(resumeFrom);
            TrainingCheckpoint.EnsureSameFixedSettings(resumeFrom, saved, settings);
            if (saved.Step >= maxSteps)
                throw new ArgumentException($"{resumeFrom} is at step {saved.Step}, the end of the run ({options.Epochs} epochs = {maxSteps} steps); raise train.epochs to train further.");
            var state = ClassifierCheckpoint.Load(resumeFrom, model, optimizer);
            step = state.Step;
            precision.Restore(state.LossScale, state.SkippedSteps);
            MetricsLog.TruncateToStep(metricsPath, step);
        }
        var (trainHistory, evalHistory) = ReadHistory(metricsPath);
        bool greater = options.Greater;
        int bestStep = -1, sinceImprovement = 0;
        double bestValue = double.NaN;
        foreach (var e in evalHistory) Track(e.Step, e.Metrics);
        DurableFile.WriteAllText(Path.Combine(outputDirectory, "options.json"), JsonSerializer.Serialize(new { train = options, model = model.Configuration, labels = labels.Names }, new JsonSerializerOptions { WriteIndented = true }));

        var clock = Stopwatch.StartNew();
        bool stoppedEarly = false;
        int planned = -1;
        int[][] plan = [];
        var mode = model as ITrainingMode;
        using (var log = new StreamWriter(metricsPath, append: true) { AutoFlush = true })
        {
            while (step < maxSteps)
            {
                ct.ThrowIfCancellationRequested();
                int epoch = step / stepsPerEpoch, within = step % stepsPerEpoch;
                if (epoch != planned) { plan = batches.Plan(epoch); planned = epoch; }
                int first = within * options.GradientAccumulation, count = Math.Min(options.GradientAccumulation, plan.Length - first);
                model.Parameters.ZeroGradients();
                precision.BeginStep();
                float loss = 0f;
                if (mode != null) mode.IsTraining = true;
                try
                {
                    for (int micro = 0; micro < count; micro++)
                    {
                        batches.Fill(plan[first + micro]);
                        float l = model.Forward(batches.Batch, batches.Labels(type));
                        if (!float.IsFinite(l))
                            throw new InvalidOperationException($"The loss became {l} at step {step}; lower train.learning_rate (now {options.LearningRate}) or check the data. The last checkpoint is kept.");
                        model.Backward(precision.LossScale / count);
                        loss += l / count;
                    }
                }
                catch
                {
                    precision.EndStep();
                    throw;
                }
                finally
                {
                    if (mode != null) mode.IsTraining = false;
                }
                float lr = Schedule(step, warmup, maxSteps, options.LearningRate, options.LrScheduler);
                bool applied = precision.EndStep();
                float norm = float.PositiveInfinity;
                if (applied)
                {
                    norm = GradientClipping.ClipGlobalNorm(model.Parameters, options.GradientClip);
                    optimizer.Update(lr);
                }
                step++;
                double epochs = (double)step / stepsPerEpoch;
                trainHistory.Add((step, loss, lr));
                log.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
                {
                    ["type"] = applied ? "train" : "skip", ["step"] = step, ["epoch"] = Math.Round(epochs, 4), ["loss"] = loss, ["lr"] = lr, ["grad_norm"] = norm, ["loss_scale"] = precision.LossScale,
                }, Json));
                bool evaluate = step % stepsPerEpoch == 0 || (options.EvalEvery > 0 && step % options.EvalEvery == 0);
                IReadOnlyDictionary<string, double>? metrics = null;
                if (evaluate)
                {
                    var eval = ClassifierEvaluation.Run(model, validation, labels, options, ct);
                    metrics = eval.Metrics;
                    evalHistory.Add((step, epochs, metrics));
                    var line = new Dictionary<string, object> { ["type"] = "validation", ["step"] = step, ["epoch"] = Math.Round(epochs, 4) };
                    foreach (var (k, v) in metrics) line[k] = v;
                    log.WriteLine(JsonSerializer.Serialize(line, Json));
                    bool improved = Track(step, metrics);
                    // A checkpoint after every evaluation: the best one always has its weights on disk.
                    ClassifierCheckpoint.Save(checkpoints, model, optimizer, new CheckpointState(step, 0, optimizer.Step, (float)bestValue, JsonSerializer.Serialize(options))
                    {
                        FixedSettings = settings, LossScale = precision.LossScale, SkippedSteps = precision.SkippedSteps, DropoutStep = mode?.DropoutStep ?? 0,
                    }, tokenizer == null ? null : tokenizer.SaveTo);
                    TrainingCheckpoint.Prune(checkpoints, options.KeepCheckpoints, CheckpointPath(checkpoints, bestStep));
                    if (!improved && options.EarlyStoppingPatience > 0 && sinceImprovement >= options.EarlyStoppingPatience && step < maxSteps)
                    {
                        progress?.Report(new FineTuneProgress(step, maxSteps, epochs, loss, lr) { Evaluation = metrics });
                        stoppedEarly = true;
                        break;
                    }
                }
                progress?.Report(new FineTuneProgress(step, maxSteps, epochs, loss, lr) { Evaluation = metrics });
            }
        }
        if (bestStep < 0) throw new InvalidOperationException($"No evaluation defined {options.MetricForBestModel}; choose another train.metric_for_best_model.");
        // HF's load_best_model_at_end: the saved model holds the best evaluation's weights.
        if (bestStep != step) ClassifierCheckpoint.LoadParameters(CheckpointPath(checkpoints, bestStep)!, model);
        var final = ClassifierEvaluation.Run(model, validation, labels, options, ct);
        string modelDir = Path.Combine(outputDirectory, "model");
        if (Directory.Exists(modelDir)) Directory.Delete(modelDir, recursive: true);
        model.Save(modelDir);
        tokenizer?.SaveTo(modelDir);
        var result = new FineTuneResult
        {
            Steps = step, MaxSteps = maxSteps, BestStep = bestStep, BestMetric = bestValue, Metric = options.MetricForBestModel,
            Evaluation = final, TrainHistory = trainHistory, EvalHistory = evalHistory, StoppedEarly = stoppedEarly,
            Seconds = clock.Elapsed.TotalSeconds, ModelDirectory = modelDir, TrainExamples = train.Examples.Count,
        };
        DurableFile.WriteAllText(Path.Combine(outputDirectory, "eval_results.json"), ResultsJson(result, train, validation, labels));
        FineTuneReport.Write(Path.Combine(outputDirectory, "report.html"), result, validation, labels, options, model.Configuration, train.TruncatedCount);
        return result;

        bool Track(int at, IReadOnlyDictionary<string, double> metrics)
        {
            if (!metrics.TryGetValue(options.MetricForBestModel, out double v)) { sinceImprovement++; return false; }
            bool better = bestStep < 0 || (greater ? v > bestValue + options.EarlyStoppingThreshold : v < bestValue - options.EarlyStoppingThreshold);
            if (better) { bestStep = at; bestValue = v; sinceImprovement = 0; }
            else sinceImprovement++;
            return better;
        }
    }

    /// <summary>The checkpoint directory of step <paramref name="step"/>, or null for none.</summary>
    private static string? CheckpointPath(string checkpoints, int step) => step < 0 ? null : Path.Combine(checkpoints, $"step_{step:D6}");

    /// <summary>Warmup from 0 to <paramref name="max"/> over <paramref name="warmup"/> steps, then linear or cosine decay to 0 at <paramref name="total"/> (HF's get_linear/cosine_schedule_with_warmup).</summary>
    public static float Schedule(int step, int warmup, int total, float max, string kind)
    {
        if (step < warmup) return max * (step + 1) / warmup;
        double progress = Math.Clamp((double)(step - warmup) / Math.Max(1, total - warmup), 0, 1);
        return kind == "cosine" ? (float)(max * 0.5 * (1 + Math.Cos(Math.PI * progress))) : (float)(max * (1 - progress));
    }

    /// <summary>The settings a resume must not change (batch order and shapes), plus the caller's (data, tokenizer, labels).</summary>
    public static Dictionary<string, string> FixedSettings(FineTuneOptions options, IReadOnlyDictionary<string, string>? more = null)
    {
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        var d = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["train.batch_size"] = options.BatchSize.ToString(inv),
            ["train.gradient_accumulation"] = options.GradientAccumulation.ToString(inv),
            ["train.max_length"] = options.MaxLength.ToString(inv),
            ["train.truncation"] = options.Truncation.ToString(),
            ["train.length_bucketing"] = options.LengthBucketing.ToString(),
            ["train.pad_to_max_length"] = options.PadToMaxLength.ToString(),
            ["train.seed"] = options.Seed.ToString(inv),
        };
        if (more != null) foreach (var (k, v) in more) d[k] = v;
        return d;
    }

    private static void Check(ISequenceClassificationModel model, ClassificationDataset train, ClassificationDataset validation, LabelSet labels, FineTuneOptions options)
    {
        if (model.NumLabels != labels.Count)
            throw new ArgumentException($"The model has {model.NumLabels} output(s) (num_labels) but the label set has {labels.Count} ({string.Join(", ", labels.Names.Take(10))}); use a model made for these labels.");
        if (model.ProblemType != labels.ProblemType)
            throw new ArgumentException($"The model's problem_type is {model.ProblemType} but the task is {labels.ProblemType}; set task to match the model, or start from a base model.");
        if (options.MaxLength > model.ContextLength)
            throw new ArgumentException($"train.max_length is {options.MaxLength} but the model's context is {model.ContextLength} tokens; lower train.max_length.");
        if (train.Examples.Count == 0) throw new ArgumentException("There are no training examples.");
        if (validation.Examples.Count == 0) throw new ArgumentException("There are no validation examples.");
        var names = ClassifierEvaluation.MetricNames(labels.ProblemType);
        if (!names.Contains(options.MetricForBestModel))
            throw Core.Validation.Setting.Error("train.metric_for_best_model", options.MetricForBestModel, $"a metric of this task: {string.Join(", ", names)}");
    }

    // The train and validation lines of an earlier (resumed) run's metrics.jsonl.
    private static (List<(int, double, double)> Train, List<(int Step, double Epoch, IReadOnlyDictionary<string, double> Metrics)> Eval) ReadHistory(string path)
    {
        var train = new List<(int, double, double)>();
        var eval = new List<(int, double, IReadOnlyDictionary<string, double>)>();
        if (!File.Exists(path)) return (train, eval);
        foreach (var line in File.ReadLines(path))
        {
            if (JsonNode.Parse(line) is not JsonObject o) continue;
            int step = (int)o["step"]!;
            switch ((string?)o["type"])
            {
                case "train": train.Add((step, (double)o["loss"]!, (double)o["lr"]!)); break;
                case "validation":
                    var m = new Dictionary<string, double>(StringComparer.Ordinal);
                    foreach (var (k, v) in o)
                        if (k is not ("type" or "step" or "epoch") && v is JsonValue jv && jv.TryGetValue(out double d)) m[k] = d;
                    eval.Add((step, (double)o["epoch"]!, m));
                    break;
            }
        }
        return (train, eval);
    }

    private static string ResultsJson(FineTuneResult r, ClassificationDataset train, ClassificationDataset validation, LabelSet labels)
    {
        var o = new JsonObject
        {
            ["steps"] = r.Steps, ["best_step"] = r.BestStep, ["metric_for_best_model"] = r.Metric, ["stopped_early"] = r.StoppedEarly,
            ["train_examples"] = train.Examples.Count, ["validation_examples"] = validation.Examples.Count,
            ["truncated_train_examples"] = train.TruncatedCount, ["truncated_validation_examples"] = validation.TruncatedCount,
            ["labels_without_train_examples"] = new JsonArray(train.LabelsWithoutExamples(labels).Select(n => (JsonNode?)n).ToArray()),
            ["labels_without_validation_examples"] = new JsonArray(validation.LabelsWithoutExamples(labels).Select(n => (JsonNode?)n).ToArray()),
            ["metrics"] = new JsonObject(r.Evaluation.Metrics.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
        };
        if (r.Evaluation.Classification is { } c) o["report"] = JsonNode.Parse(c.ToJson());
        else if (r.Evaluation.MultiLabel is { } m) o["report"] = JsonNode.Parse(m.ToJson());
        else if (r.Evaluation.Regression is { } g) o["report"] = JsonNode.Parse(g.ToJson());
        return o.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }
}

// `loom finetune --config finetune.yaml [--set key=value]... [--resume [CHECKPOINT]] [--overwrite] [--folds K]`:
// reads labelled JSONL/CSV, tokenises with the model's tokenizer, builds the classifier (ClassifierFactory)
// and runs the library's FineTuning loop; with --folds, a stratified k-fold cross-validation whose summary
// gives each metric's mean and standard deviation. The YAML and --set machinery is `loom train`'s.
using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Loom.Core.IO;
using Loom.Core.Validation;
using Loom.Evaluation.Splitting;
using Loom.Models.Classification;
using Loom.Training.Checkpoints;
using Loom.Training.Classification;
using Spectre.Console;

namespace Loom.Cli.Commands;

internal static class FinetuneCommand
{
    public static Command Create(IAnsiConsole console)
    {
        var config = new Option<FileInfo?>("--config") { Description = "YAML fine-tuning configuration (see docs/FINETUNING.md and examples/finetune/).", Required = true };
        var set = new Option<string[]>("--set") { Description = "Override a setting: key=value, e.g. train.epochs=2 or data.validation_fraction=0.2.", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => [] };
        var resume = new Option<string?>("--resume") { Description = "Continue from a checkpoint directory, or from the latest under the run's output when given no value.", Arity = ArgumentArity.ZeroOrOne };
        var overwrite = new Option<bool>("--overwrite") { Description = "Delete an earlier run in the output directory and start afresh." };
        var folds = new Option<int>("--folds") { Description = "Stratified k-fold cross-validation: train K models, report mean and standard deviation of every metric (0: one run).", DefaultValueFactory = _ => 0 };
        var cmd = new Command("finetune", "Fine-tune a BERT, GPT-2 or Llama sequence classifier (classification, regression, multi-label), or a GPT-2/Llama language model (sft, dpo, distill; optionally through LoRA).") { config, set, resume, overwrite, folds };
        cmd.SetAction(parse =>
        {
            var file = parse.GetValue(config)!;
            if (Directory.Exists(file.FullName)) throw new ArgumentException($"--config {file.FullName} is a directory; pass a YAML file.");
            if (!file.Exists) throw new FileNotFoundException($"Configuration {file.FullName} does not exist.");
            var root = TrainCommand.YamlToJson(File.ReadAllText(file.FullName), file.FullName);
            var cfg = FineTuneConfig.FromJson(root, parse.GetValue(set)!.Select(TrainCommand.FlowToJson).ToArray(), file.FullName);
            int k = parse.GetValue(folds);
            if (k != 0) Setting.AtLeast("--folds", k, 2);
            bool fresh = parse.GetResult(resume) is null;
            if (!fresh && parse.GetValue(overwrite))
                throw new ArgumentException("--resume continues the run in the output directory and --overwrite deletes it; pass one of them.");
            if (!fresh && k != 0) throw new ArgumentException("--resume continues one run; it cannot be combined with --folds. Rerun the cross-validation with --overwrite.");
            string? resumeFrom = null;
            if (!fresh)
            {
                string checkpoints = Path.Combine(cfg.Output, "checkpoints");
                resumeFrom = parse.GetValue(resume) ?? TrainingCheckpoint.Latest(checkpoints)
                    ?? throw new FileNotFoundException($"--resume: no checkpoint under {checkpoints}; start a fresh run without --resume.");
                // Checked here, before any data is read and tokenised (minutes on a large set).
                if (File.Exists(resumeFrom))
                    throw new ArgumentException($"--resume {resumeFrom} is a file; give a checkpoint directory (e.g. {Path.Combine(checkpoints, "step_000100")}) or --resume alone for the latest.");
                if (!Directory.Exists(resumeFrom))
                    throw new DirectoryNotFoundException($"--resume {resumeFrom} does not exist; give a checkpoint directory under {checkpoints} or --resume alone for the latest.");
            }
            if (cfg.Task == "seq2seq")
            {
                if (k != 0) throw new ArgumentException("--folds cross-validates classifiers; task seq2seq trains one run. Remove --folds.");
                return Seq2SeqFinetune.Run(console, cfg, resumeFrom, parse.GetValue(overwrite));
            }
            if (cfg.IsGenerative)
            {
                if (k != 0) throw new ArgumentException($"--folds cross-validates classifiers; task {cfg.Task} trains one run. Remove --folds.");
                return GenerativeFinetune.Run(console, cfg, resumeFrom, parse.GetValue(overwrite));
            }
            return k != 0 ? RunFolds(console, cfg, k, parse.GetValue(overwrite)) : Run(console, cfg, resumeFrom, parse.GetValue(overwrite));
        });
        return cmd;
    }

    private static (SequenceEncoder Encoder, LabelSet Labels, ClassificationDataset Train) Load(IAnsiConsole console, FineTuneConfig cfg)
    {
        if (cfg.InitFrom != null && !Directory.Exists(cfg.InitFrom))
            throw new DirectoryNotFoundException($"init_from {cfg.InitFrom} does not exist (or is not a directory); give a Hugging Face model directory.");
        var encoder = SequenceEncoder.Load(cfg.TokenizerPath);
        var texts = ClassificationDataReader.Read(cfg.Data.Train!, cfg.DataOptions, "data.train");
        var labels = ClassifierFactory.ReconcileWithInitFrom(cfg, cfg.Labels != null ? new LabelSet(cfg.Labels, cfg.ProblemType) : LabelSet.Infer(texts, cfg.ProblemType));
        var train = ClassificationDataset.Encode(texts, encoder, labels, cfg.Train.MaxLength, cfg.Train.Truncation);
        console.MarkupLine($"{train.Examples.Count:N0} training examples, labels: {Markup.Escape(string.Join(", ", labels.Names.Take(20)))}{(labels.Count > 20 ? ", ..." : "")}" +
                           (train.TruncatedCount > 0 ? $"; [yellow]{train.TruncatedCount:N0} truncated to train.max_length {cfg.Train.MaxLength}[/] (train.truncation: {(cfg.Train.Truncation == TruncationPolicy.HeadTail ? "head_tail" : cfg.Train.Truncation.ToString().ToLowerInvariant())})" : ""));
        return (encoder, labels, train);
    }

    private static int Run(IAnsiConsole console, FineTuneConfig cfg, string? resumeFrom, bool overwrite)
    {
        if (resumeFrom == null) RunDirectory.CheckFresh(cfg.Output, overwrite, [cfg.InitFrom, cfg.Tokenizer, cfg.Data.Train, cfg.Data.Validation]);   // deletes nothing yet
        var (encoder, labels, all) = Load(console, cfg);
        ClassificationDataset train, validation;
        if (cfg.Data.Validation is { } vpath)
        {
            train = all;
            validation = ClassificationDataset.Encode(ClassificationDataReader.Read(vpath, cfg.DataOptions, "data.validation"), encoder, labels, cfg.Train.MaxLength, cfg.Train.Truncation);
        }
        else
        {
            Fold split;
            if (cfg.Data.GroupField != null)
            {
                // Grouped hold-out: no group on both sides, each class's validation share near the fraction.
                var keys = all.StratificationKeys();
                try { split = GroupedSplits.Holdout(all.Texts.Select(t => t.Group!).ToList(), keys.Select(k => k.ToString(CultureInfo.InvariantCulture)).ToList(), cfg.Data.ValidationFraction, (ulong)cfg.Train.Seed); }
                catch (ArgumentException e) { throw new InvalidDataException($"data.train {cfg.Data.Train}: cannot hold out data.validation_fraction {cfg.Data.ValidationFraction.ToString(CultureInfo.InvariantCulture)} by data.group_field {cfg.Data.GroupField}: {e.Message.Split(" (Parameter")[0]} Or give data.validation: a file.", e); }
            }
            else try { split = StratifiedHoldout.Split(all.StratificationKeys(), cfg.Data.ValidationFraction, (ulong)cfg.Train.Seed); }
            catch (ArgumentException e) { throw new InvalidDataException($"data.train {cfg.Data.Train}: cannot hold out data.validation_fraction {cfg.Data.ValidationFraction.ToString(CultureInfo.InvariantCulture)} stratified by class: {HoldoutMessage(e.Message, labels)} Or give data.validation: a file.", e); }
            train = all.Subset(split.TrainIndices);
            validation = all.Subset(split.TestIndices);
        }
        console.MarkupLine($"{train.Examples.Count:N0} train / {validation.Examples.Count:N0} validation examples" + (validation.TruncatedCount > 0 ? $" ({validation.TruncatedCount:N0} validation texts truncated)" : ""));
        WarnMissing(console, train, labels, "training");
        WarnMissing(console, validation, labels, "validation");
        using var model = ClassifierFactory.ForTraining(cfg, labels, encoder);
        // Only now, with the settings, model and data checked and loaded, may an earlier run be replaced.
        if (resumeFrom == null) RunDirectory.PrepareFresh(cfg.Output, overwrite);
        Directory.CreateDirectory(cfg.Output);
        DurableFile.WriteAllText(Path.Combine(cfg.Output, "finetune_config.json"), JsonSerializer.Serialize(cfg, FineTuneConfig.Json));
        var result = Train(console, model, train, validation, labels, cfg, cfg.Output, encoder, resumeFrom, FixedSettings(cfg, labels));
        console.MarkupLine($"step {result.Steps}: best {Markup.Escape(result.Metric)} {result.BestMetric.ToString("F4", CultureInfo.InvariantCulture)} at step {result.BestStep}{(result.StoppedEarly ? " (stopped early)" : "")}");
        console.WriteLine(string.Join("  ", result.Evaluation.Metrics.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key} {kv.Value.ToString("F4", CultureInfo.InvariantCulture)}")));
        console.MarkupLine($"wrote {Markup.Escape(result.ModelDirectory)} and {Markup.Escape(Path.Combine(cfg.Output, "report.html"))}");
        return 0;
    }

    private static int RunFolds(IAnsiConsole console, FineTuneConfig cfg, int k, bool overwrite)
    {
        RunDirectory.CheckFresh(cfg.Output, overwrite, [cfg.InitFrom, cfg.Tokenizer, cfg.Data.Train]);
        var (encoder, labels, all) = Load(console, cfg);
        var parts = CrossValidation.Folds(all, labels, k, cfg.Train.Seed, $"data.train {cfg.Data.Train}");
        RunDirectory.PrepareFresh(cfg.Output, overwrite);
        Directory.CreateDirectory(cfg.Output);
        DurableFile.WriteAllText(Path.Combine(cfg.Output, "finetune_config.json"), JsonSerializer.Serialize(cfg, FineTuneConfig.Json));
        var metrics = new List<IReadOnlyDictionary<string, double>>();
        for (int f = 0; f < parts.Count; f++)
        {
            console.MarkupLine($"[bold]fold {f + 1}/{k}[/]: {parts[f].Train.Examples.Count:N0} train / {parts[f].Test.Examples.Count:N0} test examples");
            using var model = ClassifierFactory.ForTraining(cfg, labels, encoder);
            var r = Train(console, model, parts[f].Train, parts[f].Test, labels, cfg, Path.Combine(cfg.Output, "folds", $"fold_{f}"), encoder, null, null);
            metrics.Add(r.Evaluation.Metrics);
        }
        var summary = CrossValidation.Summarize(metrics);
        var json = new JsonObject
        {
            ["folds"] = k,
            ["metrics"] = new JsonObject(summary.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)new JsonObject { ["mean"] = kv.Value.Mean, ["std"] = kv.Value.StandardDeviation }))),
            ["per_fold"] = new JsonArray(metrics.Select(m => (JsonNode?)new JsonObject(m.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value)))).ToArray()),
        };
        DurableFile.WriteAllText(Path.Combine(cfg.Output, "cv_summary.json"), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        var table = new Table().AddColumn("metric").AddColumn("mean").AddColumn("std");
        foreach (var (name, (mean, std)) in summary)
            table.AddRow(Markup.Escape(name), mean.ToString("F4", CultureInfo.InvariantCulture), std.ToString("F4", CultureInfo.InvariantCulture));
        console.Write(table);
        console.MarkupLine($"wrote {Markup.Escape(Path.Combine(cfg.Output, "cv_summary.json"))}");
        return 0;
    }

    private static FineTuneResult Train(IAnsiConsole console, ISequenceClassificationModel model, ClassificationDataset train, ClassificationDataset validation, LabelSet labels,
        FineTuneConfig cfg, string output, SequenceEncoder encoder, string? resumeFrom, IReadOnlyDictionary<string, string>? fixedSettings)
    {
        FineTuneResult result = null!;
        int lastStep = 0;
        // Ctrl+C stops the loop between steps (FineTuning checks the token) so the run ends with one line
        // saying where it stopped and how to continue; a second Ctrl+C ends the process at once.
        using var cts = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            if (cts.IsCancellationRequested) return;
            e.Cancel = true;
            cts.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        try
        {
        console.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn()).Start(ctx =>
        {
            var task = ctx.AddTask("fine-tuning");
            var progress = new InlineProgress(p =>
            {
                task.MaxValue = p.MaxSteps;
                lastStep = p.Step;
                task.Value = p.Step;
                task.Description = $"epoch {p.Epoch:F2} step {p.Step}/{p.MaxSteps} loss {p.Loss:F4} lr {p.LearningRate:E1}" +
                                   (p.Evaluation is { } m && m.TryGetValue(cfg.Train.MetricForBestModel, out var v) ? $" val {cfg.Train.MetricForBestModel} {v:F4}" : "");
            });
            result = FineTuning.Train(model, train, validation, labels, cfg.Train, output, encoder, progress, resumeFrom, fixedSettings, cts.Token);
        });
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            throw new OperationCanceledException($"interrupted at step {lastStep}; rerun the command with --resume (without --overwrite) to continue from the last checkpoint under {Path.Combine(output, "checkpoints")}.");
        }
        finally { Console.CancelKeyPress -= onCancel; }
        return result;
    }

    // A declared label (labels:) with no example is trained and measured on nothing; say so (also in eval_results.json).
    private static void WarnMissing(IAnsiConsole console, ClassificationDataset data, LabelSet labels, string part)
    {
        if (data.LabelsWithoutExamples(labels) is { Count: > 0 } missing)
            console.MarkupLine($"[yellow]warning:[/] {Markup.Escape($"{missing.Count} declared label(s) have no {part} example: {string.Join(", ", missing)}; the model cannot {(part == "training" ? "learn" : "be measured on")} them (check labels: and the data).")}");
    }

    // StratifiedHoldout speaks of its own parameter (testFraction) and of class ids; the user wrote
    // data.validation_fraction and label names.
    private static string HoldoutMessage(string message, LabelSet labels)
    {
        message = message.Split(" (Parameter")[0].Replace("testFraction", "data.validation_fraction", StringComparison.Ordinal)
            .Replace(" test ", " validation ", StringComparison.Ordinal);
        if (labels.ProblemType == ProblemType.SingleLabel)
            message = System.Text.RegularExpressions.Regex.Replace(message, @"\bclass (\d+)", m =>
                int.TryParse(m.Groups[1].Value, out int id) && id < labels.Count ? $"class \"{labels.Names[id]}\"" : m.Value);
        return message;
    }

    // What decides the batches besides train.*: the data files and their content, the tokenizer, the task and labels.
    private static Dictionary<string, string> FixedSettings(FineTuneConfig cfg, LabelSet labels)
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["task"] = cfg.Task,
            ["labels"] = string.Join(", ", labels.Names),
            ["tokenizer"] = Path.GetFullPath(cfg.TokenizerPath),
            ["data.validation_fraction"] = cfg.Data.Validation is null ? cfg.Data.ValidationFraction.ToString("R", CultureInfo.InvariantCulture) : "(file)",
        };
        foreach (var (file, print) in TrainingData.Fingerprints([cfg.Data.Train!, .. cfg.Data.Validation is { } v ? new[] { v } : []]))
            d["data file " + file] = print;
        return d;
    }

    private sealed class InlineProgress(Action<FineTuneProgress> report) : IProgress<FineTuneProgress>
    {
        public void Report(FineTuneProgress value) => report(value);
    }
}

// `loom finetune` with task: seq2seq — text-to-text fine-tuning of an encoder-decoder model (T5) on
// source/target JSONL, as Hugging Face's run_summarization.py: sources (with seq2seq.source_prefix)
// and targets encoded as T5Tokenizer does and truncated keeping </s>, dynamically padded batches with
// labels padded by −100, teacher forcing behind decoder_start_token_id, the one training loop
// (checkpoints, bit-identical resume, metrics.jsonl, report.html with the validation loss), then the
// validation examples generated (Loom.Inference's Seq2SeqGenerator: greedy, or beam search with
// seq2seq.num_beams) and scored with ROUGE-1/2/L and exact match
// (generation.json, predictions.jsonl, and a last line of metrics.jsonl). Thin over Loom.Training.Seq2Seq.
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Loom.Core.IO;
using Loom.Models;
using Loom.Inference.Seq2Seq;
using Loom.Models.Families;
using Loom.Training.Checkpoints;
using Loom.Training.Classification;
using Loom.Training.Loop;
using Loom.Training.Seq2Seq;
using Spectre.Console;

namespace Loom.Cli.Commands;

internal static class Seq2SeqFinetune
{
    public static int Run(IAnsiConsole console, FineTuneConfig cfg, string? resumeFrom, bool overwrite)
    {
        if (resumeFrom == null) RunDirectory.CheckFresh(cfg.Output, overwrite, [cfg.InitFrom, cfg.Tokenizer, cfg.Data.Train, cfg.Data.Validation]);
        if (cfg.InitFrom != null && !Directory.Exists(cfg.InitFrom))
            throw new DirectoryNotFoundException($"init_from {cfg.InitFrom} does not exist (or is not a directory); give a Hugging Face T5 directory.");
        var s = cfg.Seq2Seq;
        var tokenizer = SpanCorruptionTraining.LoadTokenizer(cfg.TokenizerPath);
        object parsed;
        if (cfg.InitFrom != null) parsed = CausalLanguageModels.ReadConfig(cfg.InitFrom, causalOnly: false);
        else
        {
            var node = cfg.Model!.DeepClone().AsObject();
            if (node["vocab_size"] is null || node["vocab_size"]!.ToJsonString() is "0" or "0.0") node["vocab_size"] = tokenizer.Size;
            parsed = CausalLanguageModels.ParseConfig(node, "model", causalOnly: false);
        }
        if (ModelFamilies.ForConfiguration(parsed)?.CreateSeq2SeqModel is null)
            throw new NotSupportedException($"task: seq2seq trains an encoder-decoder model, but the model is {CausalLanguageModels.Describe(parsed)}; use model_type: {string.Join(" or ", Seq2SeqModels.Supported)} (or such an init_from).");

        // Data, before any model is built: a bad line fails in seconds.
        var trainPairs = Seq2SeqDataReader.Read(cfg.Data.Train!, s.DataOptions, "data.train");
        List<TextPair> validPairs;
        if (cfg.Data.Validation is { } v) validPairs = Seq2SeqDataReader.Read(v, s.DataOptions, "data.validation");
        else
        {
            // A seeded hold-out of data.validation_fraction of the examples (at least one), as the other tasks do.
            var rng = new SplitMix64((ulong)cfg.Train.Seed ^ 0x5EEDUL);
            var order = Enumerable.Range(0, trainPairs.Count).ToArray();
            for (int i = order.Length - 1; i > 0; i--) { int j = rng.Next(i + 1); (order[i], order[j]) = (order[j], order[i]); }
            int hold = Math.Max(1, (int)Math.Round(trainPairs.Count * cfg.Data.ValidationFraction));
            if (hold >= trainPairs.Count)
                throw new InvalidDataException($"data.train {cfg.Data.Train} has {trainPairs.Count} example(s); holding out data.validation_fraction {cfg.Data.ValidationFraction.ToString(CultureInfo.InvariantCulture)} leaves none to train on. Add examples or give data.validation: a file.");
            validPairs = order.Take(hold).Order().Select(i => trainPairs[i]).ToList();
            trainPairs = order.Skip(hold).Order().Select(i => trainPairs[i]).ToList();
        }
        var trainSet = Seq2SeqDataset.Encode(trainPairs, tokenizer, s.DataOptions);
        var validSet = Seq2SeqDataset.Encode(validPairs, tokenizer, s.DataOptions);
        foreach (var (set, name) in new[] { (trainSet, "data.train"), (validSet, "validation") })
            if (set.TruncatedSources + set.TruncatedTargets > 0)
                console.MarkupLine($"[yellow]warning:[/] {Markup.Escape($"{name}: {set.TruncatedSources:N0} source(s) cut to seq2seq.max_source_length {s.MaxSourceLength} and {set.TruncatedTargets:N0} target(s) cut to seq2seq.max_target_length {s.MaxTargetLength} (</s> kept)")}");

        var o = cfg.Train;
        using var t5 = cfg.InitFrom != null ? Seq2SeqModels.Load(cfg.InitFrom) : Seq2SeqModels.Create(parsed);
        if (cfg.InitFrom == null) t5.InitializeWeights(o.Seed);
        SpanCorruptionTraining.EnsureMatches(t5, tokenizer);
        var train = new Seq2SeqBatches(trainSet.Examples, o.BatchSize, s.MaxTokens, tokenizer.PadId, t5.DecoderStartTokenId, shuffle: true, o.Seed);
        var valid = new Seq2SeqBatches(validSet.Examples, o.EvalBatchSize > 0 ? o.EvalBatchSize : o.BatchSize, s.MaxTokens, tokenizer.PadId, t5.DecoderStartTokenId, shuffle: false, seed: 0);
        int batchesPerEpoch = new Seq2SeqBatches(trainSet.Examples, o.BatchSize, s.MaxTokens, tokenizer.PadId, 0, shuffle: false, 0).BatchesPerPass();
        int validBatches = valid.BatchesPerPass();
        int stepsPerEpoch = Math.Max(1, batchesPerEpoch / o.GradientAccumulation);
        int maxSteps = o.MaxSteps > 0 ? o.MaxSteps : stepsPerEpoch * o.Epochs;
        int evalEvery = o.EvalEvery > 0 ? o.EvalEvery : stepsPerEpoch;
        var options = new TrainOptions
        {
            BatchSize = o.BatchSize, GradientAccumulation = o.GradientAccumulation, SequenceLength = s.MaxTargetLength, MaxSteps = maxSteps,
            LearningRate = o.LearningRate, MinLearningRate = 0f, Schedule = o.LrScheduler, WarmupSteps = (int)Math.Round(o.WarmupRatio * maxSteps),
            WeightDecay = o.WeightDecay, GradientClip = o.GradientClip, EvalEvery = evalEvery, EvalBatches = o.EvalBatches > 0 ? Math.Min(o.EvalBatches, validBatches) : validBatches,
            Seed = o.Seed, CheckpointEvery = evalEvery, KeepCheckpoints = o.KeepCheckpoints, ActivationCheckpointing = o.ActivationCheckpointing,
            EarlyStoppingPatience = o.EarlyStoppingPatience, EarlyStoppingMinDelta = (float)o.EarlyStoppingThreshold, Precision = o.Precision, LossScaling = o.LossScaling,
        };
        var fixedSettings = FixedSettings(cfg, tokenizer);
        if (resumeFrom != null)
        {
            TrainingCheckpoint.EnsureSameFixedSettings(resumeFrom, TrainingCheckpoint.ReadState(resumeFrom), LanguageModelTraining.FixedSettings(options, fixedSettings));
            TrainingCheckpoint.EnsureSameModel(resumeFrom, t5.Configuration);
        }

        using var model = new Seq2SeqTrainingModel(t5);
        if (resumeFrom == null) RunDirectory.PrepareFresh(cfg.Output, overwrite);
        Directory.CreateDirectory(cfg.Output);
        var shown = cfg with { Model = JsonSerializer.SerializeToNode(t5.Configuration, t5.Configuration.GetType())!.AsObject() };
        console.MarkupLine("[bold]configuration[/]");
        console.WriteLine(JsonSerializer.Serialize(shown, FineTuneConfig.Json));
        DurableFile.WriteAllText(Path.Combine(cfg.Output, "finetune_config.json"), JsonSerializer.Serialize(shown, FineTuneConfig.Json));
        console.MarkupLine($"{trainSet.Examples.Count:N0} train / {validSet.Examples.Count:N0} validation pairs; {t5.Parameters.Count / 1e6:F2}M parameters ({Markup.Escape(CausalLanguageModels.Describe(t5.Configuration))}); " +
                           $"{maxSteps} steps, evaluation every {evalEvery}" + (resumeFrom != null ? $"; resuming from {Markup.Escape(resumeFrom)}" : ""));
        TrainResult result = null!;
        using var cts = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) => { if (cts.IsCancellationRequested) return; e.Cancel = true; cts.Cancel(); };
        Console.CancelKeyPress += onCancel;
        int lastStep = 0;
        try
        {
            console.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn()).Start(ctx =>
            {
                var task = ctx.AddTask("seq2seq", maxValue: maxSteps);
                var progress = new TrainCommand.InlineProgress<StepMetrics>(m =>
                {
                    lastStep = m.Step;
                    task.Value = m.Step;
                    task.Description = $"seq2seq step {m.Step}/{m.MaxSteps} loss {m.Loss:F4} lr {m.LearningRate:E1}" + (m.Applied ? "" : " (skipped: fp16 overflow)");
                });
                result = LanguageModelTraining.Train(model, train, valid, options, cfg.Output, progress, cts.Token, resumeFrom, fixedSettings);
            });
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            throw new OperationCanceledException($"interrupted at step {lastStep}; rerun the command with --resume (without --overwrite) to continue from the last checkpoint under {Path.Combine(cfg.Output, "checkpoints")}.");
        }
        finally { Console.CancelKeyPress -= onCancel; }

        string saved = Path.Combine(cfg.Output, "model");
        t5.Save(saved);
        SpanCorruptionTraining.CopyTokenizer(tokenizer.Tokenizer.Source, saved);

        // Generation on the validation set: ROUGE-1/2/L and exact match.
        int count = s.GenerateExamples > 0 ? Math.Min(s.GenerateExamples, validSet.Examples.Count) : validSet.Examples.Count;
        int maxNew = s.MaxNewTokens > 0 ? s.MaxNewTokens : s.MaxTargetLength;
        var predictions = new List<string>(count);
        var references = new List<string>(count);
        var lines = new System.Text.StringBuilder();
        var generator = new Seq2SeqGenerator(t5);
        var generation = new Seq2SeqGenerationOptions { MaxNewTokens = maxNew, NumBeams = s.NumBeams };
        console.Status().Start($"generating {count} validation targets", _ =>
        {
            for (int i = 0; i < count; i++)
            {
                var e = validSet.Examples[i];
                int[] ids = generator.Generate(e.Source, generation).Tokens;
                string prediction = tokenizer.Decode(ids);
                predictions.Add(prediction);
                references.Add(validSet.Pairs[i].Target);
                lines.Append(JsonSerializer.Serialize(new { source = validSet.Pairs[i].Source, target = validSet.Pairs[i].Target, prediction })).Append('\n');
            }
        });
        var scores = TextToTextScores.Of(predictions, references);
        DurableFile.WriteAllText(Path.Combine(cfg.Output, "predictions.jsonl"), lines.ToString());
        var summary = new JsonObject
        {
            ["step"] = result.Steps, ["split"] = "validation", ["examples"] = scores.Examples, ["num_beams"] = s.NumBeams, ["max_new_tokens"] = maxNew,
            ["rouge1"] = scores.Rouge1, ["rouge2"] = scores.Rouge2, ["rougeL"] = scores.RougeL, ["exact_match"] = scores.ExactMatch,
            ["validation_loss"] = result.ValidationLoss,
        };
        DurableFile.WriteAllText(Path.Combine(cfg.Output, "generation.json"), summary.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        File.AppendAllText(Path.Combine(cfg.Output, "metrics.jsonl"), summary.ToJsonString() + "\n");
        console.MarkupLine($"step {result.Steps}: train loss {result.LastTrainLoss:F4}, validation loss {result.ValidationLoss:F4}{(result.StoppedEarly ? " (stopped early)" : "")}; " +
                           $"[bold]{scores.Examples} validation generations: ROUGE-1 {scores.Rouge1 * 100:F1}, ROUGE-2 {scores.Rouge2 * 100:F1}, ROUGE-L {scores.RougeL * 100:F1}, exact match {scores.ExactMatch * 100:F1}%[/]; " +
                           $"wrote {Markup.Escape(saved)}, {Markup.Escape(Path.Combine(cfg.Output, "predictions.jsonl"))}, metrics.jsonl and report.html");
        return 0;
    }

    private static Dictionary<string, string> FixedSettings(FineTuneConfig cfg, SentencePieceTextToTextTokenizer tokenizer)
    {
        var inv = CultureInfo.InvariantCulture;
        var d = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["task"] = cfg.Task,
            ["tokenizer (sha256)"] = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(tokenizer.Tokenizer.Source)))[..16].ToLowerInvariant(),
            ["seq2seq"] = JsonSerializer.Serialize(cfg.Seq2Seq with { NumBeams = 1, MaxNewTokens = 0, GenerateExamples = 0 }, FineTuneConfig.Json),
            ["data.validation_fraction"] = cfg.Data.Validation is null ? cfg.Data.ValidationFraction.ToString("R", inv) : "(file)",
        };
        foreach (var (file, print) in TrainingData.Fingerprints([cfg.Data.Train!, .. cfg.Data.Validation is { } v ? new[] { v } : []]))
            d["data file " + file] = print;
        return d;
    }
}

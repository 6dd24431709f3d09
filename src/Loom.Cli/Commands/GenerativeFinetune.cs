// `loom finetune` for the generative tasks — task: sft (instruction tuning on chat/Alpaca/Dolly JSONL,
// loss on assistant tokens only), dpo (preference pairs, Rafailov et al. 2023) and distill (a student
// from a frozen teacher, Hinton et al. 2015) — on a GPT-2 or Llama causal LM, in full or through a LoRA
// adapter (lora:). Thin over the library: data readers and the conversation encoder
// (Loom.Training.Instructions), batches (SequenceBatches / WindowBatches), the objective
// (DpoObjective, DistillationObjective, or the model's own masked cross-entropy for SFT) and the one
// training loop (LanguageModelTraining: metrics.jsonl, report.html, checkpoints, bit-identical resume).
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Loom.Core.IO;
using Loom.Inference.Templates;
using Loom.Models;
using Loom.Models.Adapters;
using Loom.Tokenizers;
using Loom.Tokenizers.Formats;
using Loom.Tokenizers.Shards;
using Loom.Training.Checkpoints;
using Loom.Training.Classification;
using Loom.Training.Distillation;
using Loom.Training.Instructions;
using Loom.Training.Loop;
using Loom.Training.Preferences;
using Spectre.Console;

namespace Loom.Cli.Commands;

internal static class GenerativeFinetune
{
    public static int Run(IAnsiConsole console, FineTuneConfig cfg, string? resumeFrom, bool overwrite)
    {
        if (resumeFrom == null) RunDirectory.CheckFresh(cfg.Output, overwrite, [cfg.InitFrom, cfg.Tokenizer, cfg.Data.Train, cfg.Data.Validation, cfg.Distill?.Teacher, cfg.Distill?.TeacherCache]);
        if (cfg.InitFrom != null && !Directory.Exists(cfg.InitFrom))
            throw new DirectoryNotFoundException($"init_from {cfg.InitFrom} does not exist (or is not a directory); give a Hugging Face model directory.");
        var tokenizer = TokenizerLoader.Load(cfg.TokenizerPath);
        object modelConfig;
        if (cfg.InitFrom != null) modelConfig = CausalLanguageModels.ReadConfig(cfg.InitFrom);
        else
        {
            var node = cfg.Model!.DeepClone().AsObject();
            if (node["vocab_size"] is null || node["vocab_size"]!.ToJsonString() is "0" or "0.0") node["vocab_size"] = tokenizer.VocabularySize;
            modelConfig = CausalLanguageModels.ParseConfig(node, "model");
        }
        var o = cfg.Train;
        int pad = tokenizer.SpecialTokens.TryGetValue("<|endoftext|>", out int eot) ? eot : 0;

        // Data, before any model is built: a bad line fails in seconds.
        IBatchSource train, validation;
        TeacherCacheBatches? cached = null;
        int batchesPerEpoch, evalBatches;
        string summary;
        var renderer = cfg.Task == "distill" ? null : Renderer(cfg);
        if (cfg.Task == "distill")
        {
            var (trainTokens, validTokens) = DistillTokens(cfg, tokenizer);
            if (cfg.Distill!.TeacherCache is { } cacheDir)
            {
                // Offline distillation: the teacher runs once (or never, when the cache is there) and the student
                // trains on the cached chunks.
                var cache = OpenOrBuildCache(console, cfg, cacheDir, trainTokens, tokenizer);
                cached = new TeacherCacheBatches(cache, o.BatchSize, o.Seed);
                train = cached;
            }
            else train = new WindowBatches(trainTokens, o.BatchSize, o.MaxLength, o.Seed);
            validation = new WindowBatches(validTokens, o.BatchSize, o.MaxLength, seed: 0);
            batchesPerEpoch = Math.Max(1, trainTokens.Length / (o.BatchSize * o.MaxLength));
            evalBatches = o.EvalBatches > 0 ? o.EvalBatches : Math.Clamp(validTokens.Length / (o.BatchSize * o.MaxLength), 1, 50);
            summary = $"{trainTokens.Length:N0} train and {validTokens.Length:N0} validation tokens";
        }
        else
        {
            var encoder = new ConversationEncoder(renderer!, text => tokenizer.Encode(text, SpecialTokenPolicy.All), o.MaxLength);
            var (trainItems, trainNote) = Encode(cfg, encoder, cfg.Data.Train!, "data.train");
            List<LabeledSequence[]> validItems;
            string validNote;
            if (cfg.Data.Validation is { } v) (validItems, validNote) = Encode(cfg, encoder, v, "data.validation");
            else
            {
                // A seeded hold-out of data.validation_fraction of the examples (at least one).
                var rng = new SplitMix64((ulong)o.Seed ^ 0x5EEDUL);
                var order = Enumerable.Range(0, trainItems.Count).ToArray();
                for (int i = order.Length - 1; i > 0; i--) { int j = rng.Next(i + 1); (order[i], order[j]) = (order[j], order[i]); }
                int hold = Math.Max(1, (int)Math.Round(trainItems.Count * cfg.Data.ValidationFraction));
                if (hold >= trainItems.Count)
                    throw new InvalidDataException($"data.train {cfg.Data.Train} has {trainItems.Count} usable example(s); holding out data.validation_fraction {cfg.Data.ValidationFraction.ToString(CultureInfo.InvariantCulture)} leaves none to train on. Add examples or give data.validation: a file.");
                var held = order.Take(hold).Order().ToList();
                validItems = held.Select(i => trainItems[i]).ToList();
                trainItems = order.Skip(hold).Order().Select(i => trainItems[i]).ToList();
                validNote = "";
            }
            foreach (var note in new[] { trainNote, validNote }.Where(n => n.Length > 0)) console.MarkupLine($"[yellow]warning:[/] {Markup.Escape(note)}");
            int validBatches;
            if (cfg.Sft.Packing)
            {
                // Several conversations per row of train.max_length, no attention between them (TRL's padding-free packing).
                var packed = new PackedSequenceBatches(trainItems.Select(i => i[0]).ToList(), o.BatchSize, o.MaxLength, pad, o.Seed);
                var valid = new PackedSequenceBatches(validItems.Select(i => i[0]).ToList(), o.EvalBatchSize > 0 ? o.EvalBatchSize : o.BatchSize, o.MaxLength, pad, seed: 0, shuffle: false);
                (train, validation, batchesPerEpoch, validBatches) = (packed, valid, packed.BatchesPerEpoch, valid.BatchesPerEpoch);
            }
            else
            {
                var sequences = new SequenceBatches(trainItems, o.BatchSize, pad, o.Seed);
                var valid = new SequenceBatches(validItems, o.EvalBatchSize > 0 ? o.EvalBatchSize : o.BatchSize, pad, seed: 0, shuffle: false);
                (train, validation, batchesPerEpoch, validBatches) = (sequences, valid, sequences.BatchesPerEpoch, valid.BatchesPerEpoch);
            }
            evalBatches = o.EvalBatches > 0 ? Math.Min(o.EvalBatches, validBatches) : validBatches;
            string unit = cfg.Task == "dpo" ? "preference pairs" : "conversations";
            summary = $"{trainItems.Count:N0} train / {validItems.Count:N0} validation {unit} ({trainItems.Sum(i => i.Sum(r => (long)r.LabeledCount)):N0} {(cfg.Task == "dpo" ? "answer" : "assistant")} tokens trained on)" +
                      (cfg.Sft.Packing ? $", packed into {((PackedSequenceBatches)train).RowsPerEpoch:N0} rows of {o.MaxLength} per epoch" : "");
        }
        int stepsPerEpoch = Math.Max(1, batchesPerEpoch / o.GradientAccumulation);
        int maxSteps = o.MaxSteps > 0 ? o.MaxSteps : stepsPerEpoch * o.Epochs;
        int evalEvery = o.EvalEvery > 0 ? o.EvalEvery : stepsPerEpoch;
        var options = new TrainOptions
        {
            BatchSize = o.BatchSize, GradientAccumulation = o.GradientAccumulation, SequenceLength = o.MaxLength, MaxSteps = maxSteps,
            LearningRate = o.LearningRate, MinLearningRate = 0f, Schedule = o.LrScheduler, WarmupSteps = (int)Math.Round(o.WarmupRatio * maxSteps),
            WeightDecay = o.WeightDecay, GradientClip = o.GradientClip, EvalEvery = evalEvery, EvalBatches = evalBatches, Seed = o.Seed,
            CheckpointEvery = evalEvery, KeepCheckpoints = o.KeepCheckpoints, ActivationCheckpointing = o.ActivationCheckpointing,
            EarlyStoppingPatience = o.EarlyStoppingPatience, EarlyStoppingMinDelta = (float)o.EarlyStoppingThreshold,
            Precision = o.Precision, LossScaling = o.LossScaling,
        };
        var fixedSettings = FixedSettings(cfg, tokenizer);
        if (resumeFrom != null)
        {
            TrainingCheckpoint.EnsureSameFixedSettings(resumeFrom, TrainingCheckpoint.ReadState(resumeFrom), LanguageModelTraining.FixedSettings(options, fixedSettings));
            TrainingCheckpoint.EnsureSameModel(resumeFrom, modelConfig);
        }

        // Models: the one that trains, and a frozen teacher or reference (no gradients) when the task needs one.
        var lora = cfg.Lora?.ToOptions(cfg.InitFrom, o.Seed);
        using var model = lora != null ? TrainCommand.CreateLoraModel(cfg.InitFrom!, modelConfig, lora, cfg.Lora!)
            : cfg.InitFrom != null ? CausalLanguageModels.Load(cfg.InitFrom, ModelOptions.Default) : CausalLanguageModels.Create(modelConfig);
        if (cfg.InitFrom == null) model.InitializeWeights(o.Seed);
        if (tokenizer.VocabularySize > model.VocabularySize)
            throw new ArgumentException($"The tokenizer {cfg.TokenizerPath} has {tokenizer.VocabularySize:N0} ids but the model's vocab_size is {model.VocabularySize:N0}; use the model's own tokenizer.");
        if (o.MaxLength > model.ContextLength)
            throw new ArgumentException($"train.max_length is {o.MaxLength} but the model's context (n_positions / max_position_embeddings) is {model.ContextLength}; lower train.max_length.");
        using var frozen = cfg.Task switch
        {
            "dpo" when lora == null => CausalLanguageModels.Load(cfg.InitFrom!, ModelOptions.Inference),   // the frozen starting model
            "distill" when cached == null => LoadTeacher(cfg.Distill!.Teacher!, tokenizer, cfg.TokenizerPath),
            _ => null,
        };
        // A teacher of another vocabulary: named by the file that says so, with the fix (before the objective's own check).
        if (cfg.Task == "distill" && (frozen?.VocabularySize ?? cached?.Cache.Vocabulary) is int teacherVocab && teacherVocab != model.VocabularySize)
            throw new ArgumentException($"{(frozen != null ? Path.Combine(cfg.Distill!.Teacher!, "config.json") : Path.Combine(cfg.Distill!.TeacherCache!, "teacher_cache.json"))}: the teacher's vocab_size is {teacherVocab:N0} and the student's {model.VocabularySize:N0} ({(cfg.InitFrom != null ? $"init_from {cfg.InitFrom}" : "model.vocab_size")}); distillation compares the two distributions token by token, so both must use the same tokenizer and vocab_size: give the student the teacher's tokenizer (tokenizer: {cfg.Distill.Teacher}) and vocab_size {teacherVocab}.");
        using ILanguageModel? objective = cfg.Task switch
        {
            "dpo" => new DpoObjective(model, frozen, cfg.Dpo.Beta),
            "distill" when cached != null => new CachedDistillationObjective(model, cached, cfg.Distill!.Alpha),
            "distill" => new DistillationObjective(model, frozen!, cfg.Distill!.Alpha, cfg.Distill.Temperature),
            _ => null,
        };
        if (frozen != null && cfg.Task == "distill" && o.MaxLength > frozen.ContextLength)
            throw new ArgumentException($"train.max_length is {o.MaxLength} but the teacher's context is {frozen.ContextLength}; lower train.max_length.");

        if (resumeFrom == null) RunDirectory.PrepareFresh(cfg.Output, overwrite);
        Directory.CreateDirectory(cfg.Output);
        var shown = cfg with { Model = JsonSerializer.SerializeToNode(model.Configuration, model.Configuration.GetType())!.AsObject() };
        console.MarkupLine("[bold]configuration[/]");
        console.WriteLine(JsonSerializer.Serialize(shown, FineTuneConfig.Json));
        DurableFile.WriteAllText(Path.Combine(cfg.Output, "finetune_config.json"), JsonSerializer.Serialize(shown, FineTuneConfig.Json));
        console.MarkupLine($"{Markup.Escape(summary)}; {model.Parameters.Count / 1e6:F2}M parameters ({Markup.Escape(CausalLanguageModels.Describe(model.Configuration))}), " +
                           $"{model.Parameters.TrainableCount:N0} trainable{(lora != null ? " (LoRA)" : "")}; {maxSteps} steps, evaluation every {evalEvery}" +
                           (renderer is TemplateChatRenderer t ? $"; chat template: {Markup.Escape(t.Template.Origin)}" : "") +
                           (resumeFrom != null ? $"; resuming from {Markup.Escape(resumeFrom)}" : ""));
        TrainResult result = null!;
        using var cts = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) => { if (cts.IsCancellationRequested) return; e.Cancel = true; cts.Cancel(); };
        Console.CancelKeyPress += onCancel;
        int lastStep = 0;
        try
        {
            console.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn()).Start(ctx =>
            {
                var task = ctx.AddTask($"{cfg.Task}", maxValue: maxSteps);
                var progress = new TrainCommand.InlineProgress<StepMetrics>(s =>
                {
                    lastStep = s.Step;
                    task.Value = s.Step;
                    task.Description = $"{cfg.Task} step {s.Step}/{s.MaxSteps} loss {s.Loss:F4} lr {s.LearningRate:E1}" + (s.Applied ? "" : " (skipped: fp16 overflow)");
                });
                result = LanguageModelTraining.Train(objective ?? model, train, validation, options, cfg.Output, progress, cts.Token, resumeFrom, fixedSettings);
            });
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            throw new OperationCanceledException($"interrupted at step {lastStep}; rerun the command with --resume (without --overwrite) to continue from the last checkpoint under {Path.Combine(cfg.Output, "checkpoints")}.");
        }
        finally { Console.CancelKeyPress -= onCancel; }

        string saved;
        if (lora != null)
        {
            saved = Path.Combine(cfg.Output, "adapter");
            LoraAdapters.Save(model.Parameters, modelConfig, lora, saved);   // PEFT's adapter files; apply with --adapter
        }
        else
        {
            saved = Path.Combine(cfg.Output, "model");
            model.Save(saved);
            HuggingFaceTokenizerJson.Save(tokenizer, Path.Combine(saved, "tokenizer.json"));
            WriteTokenizerConfig(cfg, renderer as TemplateChatRenderer, saved);
        }
        string what = cfg.Task switch { "sft" => "validation loss on assistant tokens", "dpo" => "validation DPO loss", _ => "validation distillation loss" };
        console.MarkupLine($"step {result.Steps}: train loss {result.LastTrainLoss:F4}, [bold]{what} {result.ValidationLoss:F4}[/]{(result.StoppedEarly ? " (stopped early)" : "")}; " +
                           $"wrote {Markup.Escape(saved)}, {Markup.Escape(Path.Combine(cfg.Output, "metrics.jsonl"))} and {Markup.Escape(Path.Combine(cfg.Output, "report.html"))}");
        return 0;
    }

    // The model's chat template (init_from's tokenizer_config.json chat_template or chat_template.jinja),
    // sft.chat_template when given, else ChatML.
    private static IChatRenderer Renderer(FineTuneConfig cfg)
    {
        string? dir = cfg.InitFrom ?? (Directory.Exists(cfg.TokenizerPath) ? cfg.TokenizerPath : null);
        if (dir != null) return new TemplateChatRenderer(ChatTemplate.ForModel(dir, cfg.Sft.ChatTemplate));
        if (cfg.Sft.ChatTemplate is { } file) return new TemplateChatRenderer(ChatTemplate.FromFile(file, option: "sft.chat_template"));
        return new TemplateChatRenderer(ChatTemplate.ChatML);
    }

    // Conversations (sft) or pairs (dpo) as batch items; final answers that cannot fit are left out and said.
    private static (List<LabeledSequence[]> Items, string Note) Encode(FineTuneConfig cfg, ConversationEncoder encoder, string path, string option)
    {
        var items = new List<LabeledSequence[]>();
        int skipped = 0, truncated = 0;
        string? firstSkip = null;
        if (cfg.Task == "sft")
        {
            foreach (var c in InstructionDataReader.ReadConversations(path, option))
            {
                var s = encoder.Encode(c, out string? reason);
                if (s is null) { skipped++; firstSkip ??= reason; continue; }
                if (s.Truncated) truncated++;
                items.Add([s.ToLabeled()]);
            }
        }
        else
        {
            foreach (var p in InstructionDataReader.ReadPreferences(path, option))
            {
                var chosen = encoder.Encode(p.ChosenConversation, out string? r1);
                var rejected = encoder.Encode(p.RejectedConversation, out string? r2);
                if (chosen is null || rejected is null) { skipped++; firstSkip ??= r1 ?? r2; continue; }
                if (chosen.Truncated || rejected.Truncated) truncated++;
                items.Add([chosen.ToLabeled(), rejected.ToLabeled()]);
            }
        }
        if (items.Count == 0)
            throw new InvalidDataException($"{option} {path}: no example fits train.max_length {encoder.MaxLength} with its whole final answer ({firstSkip}); raise train.max_length.");
        var notes = new List<string>();
        if (truncated > 0) notes.Add($"{truncated:N0} example(s) of {option} lost earlier turns (cut from the left) to fit train.max_length {encoder.MaxLength}; final answers are kept whole");
        if (skipped > 0) notes.Add($"{skipped:N0} example(s) of {option} left out because the final answer does not fit train.max_length {encoder.MaxLength} (first: {firstSkip}); raise train.max_length to keep them");
        return (items, string.Join("; ", notes));
    }

    private static (int[] Train, int[] Validation) DistillTokens(FineTuneConfig cfg, BpeTokenizer tokenizer)
    {
        int[] Load(string path) => TrainingData.Load([path], cfg.Data.TextField, tokenizer, cfg.TokenizerPath, asDocuments: false).SelectMany(d => d).ToArray();
        int[] all = Load(cfg.Data.Train!);
        int need = cfg.Train.MaxLength + 1;
        if (cfg.Data.Validation is { } v)
        {
            var valid = Load(v);
            if (all.Length < need || valid.Length < need) throw new InvalidDataException($"data.train and data.validation need at least train.max_length + 1 = {need} tokens each; lower train.max_length or add text.");
            return (all, valid);
        }
        int cut = (int)(all.Length * (1 - cfg.Data.ValidationFraction));
        if (cut < need || all.Length - cut < need)
            throw new InvalidDataException($"data.train {cfg.Data.Train} has {all.Length:N0} tokens; split by data.validation_fraction {cfg.Data.ValidationFraction.ToString(CultureInfo.InvariantCulture)} each part needs at least train.max_length + 1 = {need}. Add text or lower train.max_length.");
        return (all[..cut], all[cut..]);
    }

    // distill.teacher_cache: reuse a cache made for this text and these settings, else run the teacher once
    // over data.train's aligned chunks (timed, and the time stored in the manifest) and save it.
    private static TeacherCache OpenOrBuildCache(IAnsiConsole console, FineTuneConfig cfg, string dir, int[] trainTokens, BpeTokenizer tokenizer)
    {
        var d = cfg.Distill!;
        int T = cfg.Train.MaxLength;
        if (TeacherCache.Exists(dir))
        {
            var opened = TeacherCache.Open(dir, trainTokens, T, d.TopK, d.Temperature);   // its vocabulary is checked against the student's by the objective
            console.MarkupLine($"teacher cache {Markup.Escape(dir)}: {opened.Chunks:N0} chunks of {T}, top {d.TopK} (the teacher pass took {opened.BuildCpuSeconds:F1} s CPU when it was built)");
            return opened;
        }
        using var teacher = LoadTeacher(d.Teacher!, tokenizer, cfg.TokenizerPath);
        if (T > teacher.ContextLength) throw new ArgumentException($"train.max_length is {T} but the teacher's context is {teacher.ContextLength}; lower train.max_length.");
        TeacherCache cache = null!;
        console.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn()).Start(ctx =>
        {
            var task = ctx.AddTask("teacher pass", maxValue: Math.Max(1, (trainTokens.Length - 1) / T));
            cache = TeacherCache.Build(teacher, trainTokens, T, d.TopK, d.Temperature, batch: Math.Max(cfg.Train.BatchSize, 16), progress: (done, _) => task.Value = done);
        });
        cache.Save(dir, d.Teacher!, teacher.Configuration);
        console.MarkupLine($"teacher pass: {cache.Chunks:N0} chunks of {T} tokens, top {d.TopK} at temperature {d.Temperature} in {cache.BuildSeconds:F1} s ({cache.BuildCpuSeconds:F1} s CPU); cached in {Markup.Escape(dir)}");
        return cache;
    }

    // The teacher, frozen (no gradient block), with the student's vocabulary — checked by size and, when
    // the teacher ships a tokenizer, by the tokenizer itself (same size, other ids would pass the size check).
    private static ICausalLanguageModel LoadTeacher(string dir, BpeTokenizer studentTokenizer, string studentTokenizerPath)
    {
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"distill.teacher {dir} does not exist (or is not a directory); give the teacher's model directory.");
        var config = CausalLanguageModels.ReadConfig(dir);
        var teacher = CausalLanguageModels.Load(dir, ModelOptions.Inference);
        try
        {
            string? teacherFingerprint = null;
            try { teacherFingerprint = Convert.ToHexString(TokenShardHeader.FingerprintOf(TokenizerLoader.Load(dir))); }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or ArgumentException or InvalidDataException or NotSupportedException) { }
            string studentFingerprint = Convert.ToHexString(TokenShardHeader.FingerprintOf(studentTokenizer));
            if (teacherFingerprint != null && teacherFingerprint != studentFingerprint)
                throw new ArgumentException($"distill.teacher {dir}: its tokenizer is not the student's ({studentTokenizerPath}); distillation matches the two distributions token by token, so train the student with the teacher's tokenizer (tokenizer: {dir}).");
            return teacher;
        }
        catch
        {
            teacher.Dispose();
            throw;
        }
    }

    // init_from's tokenizer_config.json (special tokens, chat_template) travels with the model; a chat template
    // given in sft.chat_template is written into it, so generate/serve render prompts as training did.
    private static void WriteTokenizerConfig(FineTuneConfig cfg, TemplateChatRenderer? renderer, string saved)
    {
        JsonObject config = new();
        string? source = cfg.InitFrom is { } d && File.Exists(Path.Combine(d, "tokenizer_config.json")) ? Path.Combine(d, "tokenizer_config.json") : null;
        if (source != null && JsonNode.Parse(File.ReadAllText(source)) is JsonObject o) config = o;
        if (cfg.Sft.ChatTemplate != null && renderer != null) config["chat_template"] = renderer.Template.Text;
        if (config.Count > 0) DurableFile.WriteAllText(Path.Combine(saved, "tokenizer_config.json"), config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    private static Dictionary<string, string> FixedSettings(FineTuneConfig cfg, BpeTokenizer tokenizer)
    {
        var inv = CultureInfo.InvariantCulture;
        var d = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["task"] = cfg.Task,
            ["tokenizer (fingerprint)"] = Convert.ToHexString(TokenShardHeader.FingerprintOf(tokenizer)).ToLowerInvariant(),
            ["train.max_length"] = cfg.Train.MaxLength.ToString(inv),
            ["data.validation_fraction"] = cfg.Data.Validation is null ? cfg.Data.ValidationFraction.ToString("R", inv) : "(file)",
            ["lora"] = cfg.Lora is null ? "(none)" : JsonSerializer.Serialize(cfg.Lora, FineTuneConfig.Json),
        };
        if (cfg.Task == "dpo") d["dpo.beta"] = cfg.Dpo.Beta.ToString("R", inv);
        if (cfg.Sft.Packing) d["sft.packing"] = "true";   // the batches differ, so a resume must keep it
        if (cfg.Distill is { } x)
        {
            d["distill.alpha"] = x.Alpha.ToString("R", inv); d["distill.temperature"] = x.Temperature.ToString("R", inv);
            d["distill.teacher_cache"] = x.TeacherCache is null ? "(on the fly)" : $"top_k {x.TopK}";
        }
        foreach (var (file, print) in TrainingData.Fingerprints([cfg.Data.Train!, .. cfg.Data.Validation is { } v ? new[] { v } : []]))
            d["data file " + file] = print;
        return d;
    }
}

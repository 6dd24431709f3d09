// `loom train` for an encoder-decoder family (model.model_type: t5): T5's span-corruption
// pre-training (Raffel et al. 2020 §3.1.4, HF's run_t5_mlm_flax.py). A SentencePiece tokenizer
// (spiece.model or a Unigram tokenizer.json with <extra_id_N> sentinels); every non-blank text line
// (or JSONL record) a document ending in </s> as T5Tokenizer encodes it; the documents joined into
// one stream; random windows of the length compute_input_and_target_lengths gives for encoder inputs
// of train.sequence_length; corrupted with the span_corruption settings; trained by the same loop as
// every other family (checkpoints, bit-identical resume, metrics.jsonl, report.html) and saved as a
// Hugging Face T5ForConditionalGeneration directory with the tokenizer's files.
using System.Text.Json;
using System.Text.Json.Nodes;
using Loom.Core.IO;
using Loom.Models;
using Loom.Models.Families;
using Loom.Tokenizers.SentencePiece;
using Loom.Tokenizers.Shards;
using Loom.Tokenizers.Trainer;
using Loom.Training.Checkpoints;
using Loom.Training.Loop;
using Loom.Training.Seq2Seq;
using Spectre.Console;

namespace Loom.Cli.Commands;

internal static class SpanCorruptionTraining
{
    /// <summary>True when the run trains an encoder-decoder family (its registry row builds a seq2seq model), from model: or init_from's config.</summary>
    public static bool IsEncoderDecoder(TrainConfig cfg)
    {
        if (cfg.InitFrom != null) return Seq2SeqModels.IsSeq2SeqDirectory(cfg.InitFrom);
        return cfg.Model["model_type"] is JsonValue v && v.TryGetValue<string>(out var type) && ModelFamilies.Find(type)?.CreateSeq2SeqModel != null;
    }

    public static int Run(IAnsiConsole console, TrainConfig cfg, string? resumeFrom, bool overwrite)
    {
        if (cfg.Batching != "windows")
            throw new ArgumentException($"batching is \"{cfg.Batching}\", but model_type \"t5\" pre-trains on span-corrupted windows of the joined documents; remove batching or set it to \"windows\".");
        if (cfg.Lora != null) throw new ArgumentException("lora: is set but model_type t5 pre-trains in full; remove lora:.");
        var tokenizer = LoadTokenizer(cfg.Tokenizer);
        if (tokenizer.SentinelCount < 1)
            throw new InvalidDataException($"The tokenizer {cfg.Tokenizer} has no <extra_id_N> sentinel tokens, which span corruption needs; use a T5 tokenizer (spiece.model, to which T5Tokenizer appends 100) or a tokenizer.json with them.");

        object modelConfig;
        if (cfg.InitFrom != null) modelConfig = CausalLanguageModels.ReadConfig(cfg.InitFrom, causalOnly: false);
        else
        {
            var node = cfg.Model.DeepClone().AsObject();
            if (node["vocab_size"] is null || node["vocab_size"]!.ToJsonString() is "0" or "0.0") node["vocab_size"] = tokenizer.Size;
            modelConfig = CausalLanguageModels.ParseConfig(node, "model", causalOnly: false);
        }
        var o = cfg.Train;
        var sc = cfg.SpanCorruption;
        var (window, _) = SpanCorruption.ComputeInputAndTargetLengths(o.SequenceLength, sc.NoiseDensity, sc.MeanNoiseSpanLength);
        SpanCorruptionCollator NewCollator() => new(sc, window, tokenizer.FirstSentinelId, tokenizer.SentinelCount, tokenizer.EosId);
        var collator = NewCollator();
        if (collator.InputsLength != o.SequenceLength)
            throw new ArgumentException($"train.sequence_length {o.SequenceLength} is too short for span corruption at noise_density {sc.NoiseDensity}: a window of {window} tokens yields {collator.InputsLength} inputs (HF's lengths assume at least one noise span); raise train.sequence_length.");
        var fixedSettings = FixedSettings(cfg, tokenizer);
        if (resumeFrom != null)
        {
            TrainingCheckpoint.EnsureSameFixedSettings(resumeFrom, TrainingCheckpoint.ReadState(resumeFrom), LanguageModelTraining.FixedSettings(o, fixedSettings));
            TrainingCheckpoint.EnsureSameModel(resumeFrom, modelConfig);
        }
        else RunDirectory.CheckFresh(cfg.Output, overwrite, [cfg.InitFrom, cfg.Tokenizer, .. cfg.Data]);

        var repaired = new InputCounters();
        // Every non-blank line of a text file, or each JSONL record's field, is a document ending in </s>.
        var (tokens, documents) = DocumentStream.Read(cfg.Data, cfg.Field, repaired, tokenizer.Encode, tokenizer.EosId,
            "span-corruption pre-training reads text or JSONL files (it tokenizes with the SentencePiece tokenizer itself)");
        if (repaired.Warning("the training data") is { } warning) console.MarkupLine($"[yellow]warning:[/] {Markup.Escape(warning)}");
        int cut = (int)(tokens.Length * (1 - cfg.ValidationFraction));
        if (cut < window || tokens.Length - cut < window)
            throw new ArgumentException($"The data holds {tokens.Length:N0} tokens: {cut:N0} for training and {tokens.Length - cut:N0} for validation (validation_fraction {cfg.ValidationFraction}), " +
                                        $"but each span-corruption window for train.sequence_length {o.SequenceLength} needs {window}; add data or lower train.sequence_length.");

        using var t5 = cfg.InitFrom != null ? Seq2SeqModels.Load(cfg.InitFrom) : Seq2SeqModels.Create(modelConfig);
        if (cfg.InitFrom == null) t5.InitializeWeights(cfg.Seed);
        EnsureMatches(t5, tokenizer);
        using var model = new Seq2SeqTrainingModel(t5);
        IBatchSource train = new SpanCorruptionBatches(tokens[..cut], o.BatchSize, collator, t5.DecoderStartTokenId, tokenizer.PadId, o.Seed);
        IBatchSource validation = new SpanCorruptionBatches(tokens[cut..], o.BatchSize, NewCollator(), t5.DecoderStartTokenId, tokenizer.PadId, seed: 0);
        cfg = cfg with { Model = JsonSerializer.SerializeToNode(t5.Configuration, t5.Configuration.GetType())!.AsObject() };
        console.MarkupLine("[bold]configuration[/]");
        console.WriteLine(JsonSerializer.Serialize(cfg, TrainConfig.Json));
        if (resumeFrom == null) RunDirectory.PrepareFresh(cfg.Output, overwrite);
        Directory.CreateDirectory(cfg.Output);
        DurableFile.WriteAllText(Path.Combine(cfg.Output, "train_config.json"), JsonSerializer.Serialize(cfg, TrainConfig.Json));
        console.MarkupLine($"{documents:N0} documents; {cut:N0} train and {tokens.Length - cut:N0} validation tokens; {t5.Parameters.Count / 1e6:F2}M parameters " +
                           $"({Markup.Escape(CausalLanguageModels.Describe(t5.Configuration))}), span corruption ({sc.NoiseDensity:0.###} of the tokens, spans of {sc.MeanNoiseSpanLength:0.#}: " +
                           $"{window} tokens → {collator.InputsLength} inputs, {collator.TargetsLength} targets)" + (resumeFrom != null ? $"; resuming from {Markup.Escape(resumeFrom)}" : ""));
        TrainResult result = null!;
        console.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn()).Start(ctx =>
        {
            var task = ctx.AddTask("training", maxValue: o.MaxSteps);
            var progress = new TrainCommand.InlineProgress<StepMetrics>(s =>
            {
                task.Value = s.Step;
                task.Description = $"step {s.Step}/{s.MaxSteps} span loss {s.Loss:F3} lr {s.LearningRate:E1}" + (s.Applied ? "" : " (skipped: fp16 overflow)");
            });
            result = LanguageModelTraining.Train(model, train, validation, o, cfg.Output, progress, default, resumeFrom, fixedSettings);
        });
        t5.Save(cfg.Output);
        CopyTokenizer(tokenizer.Tokenizer.Source, cfg.Output);
        console.MarkupLine($"step {result.Steps}: train span-corruption loss {result.LastTrainLoss:F4}, [bold]validation loss {result.ValidationLoss:F4}[/] " +
                           $"(ln vocab = {Math.Log(tokenizer.Size):F2}); wrote {Markup.Escape(Path.Combine(cfg.Output, "report.html"))} and the model (T5ForConditionalGeneration)");
        return 0;
    }

    /// <summary>Throws unless the tokenizer fits the model: every id (sentinels included) inside the vocabulary, and the same &lt;/s&gt; and pad.</summary>
    public static void EnsureMatches(ISeq2SeqModel model, SentencePieceTextToTextTokenizer tokenizer)
    {
        if (tokenizer.Size > model.VocabularySize)
            throw new ArgumentException($"The tokenizer has {tokenizer.Size} ids (sentinels included) but the model's vocab_size is {model.VocabularySize}; remove model.vocab_size to take the tokenizer's, or use the model's own tokenizer.");
        if (model.EosTokenId != tokenizer.EosId || model.PadTokenId != tokenizer.PadId)
            throw new ArgumentException($"The model's eos_token_id {model.EosTokenId} / pad_token_id {model.PadTokenId} differ from the tokenizer's </s> {tokenizer.EosId} / <pad> {tokenizer.PadId}; set model.eos_token_id and model.pad_token_id to the tokenizer's.");
    }

    /// <summary>A SentencePiece tokenizer (file or directory) as T5Tokenizer uses it.</summary>
    public static SentencePieceTextToTextTokenizer LoadTokenizer(string path)
    {
        if (SentencePieceTokenizer.ResolveFile(path) is null)
            throw new ArgumentException($"tokenizer is \"{path}\", which holds no SentencePiece model, but T5 uses one: give a spiece.model, a Unigram tokenizer.json (with <extra_id_N>) or a directory holding either.");
        return new SentencePieceTextToTextTokenizer(SentencePieceTokenizer.Load(path));
    }

    /// <summary>The tokenizer's file goes next to the model under the name transformers looks for (spiece.model or tokenizer.json).</summary>
    public static void CopyTokenizer(string sourceFile, string output)
    {
        Directory.CreateDirectory(output);
        string name = sourceFile.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? "tokenizer.json" : "spiece.model";
        byte[] bytes = File.ReadAllBytes(sourceFile);
        if (sourceFile.EndsWith(".gz", StringComparison.OrdinalIgnoreCase))
        {
            using var gz = new System.IO.Compression.GZipStream(new MemoryStream(bytes), System.IO.Compression.CompressionMode.Decompress);
            using var plain = new MemoryStream();
            gz.CopyTo(plain);
            bytes = plain.ToArray();
        }
        DurableFile.WriteAllBytes(Path.Combine(output, name), bytes);
    }

    private static Dictionary<string, string> FixedSettings(TrainConfig cfg, SentencePieceTextToTextTokenizer tokenizer)
    {
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        var d = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["tokenizer (sha256)"] = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(tokenizer.Tokenizer.Source)))[..16].ToLowerInvariant(),
            ["batching"] = cfg.Batching,
            ["validation_fraction"] = cfg.ValidationFraction.ToString("R", inv),
            ["field"] = cfg.Field,
            ["span_corruption.noise_density"] = cfg.SpanCorruption.NoiseDensity.ToString("R", inv),
            ["span_corruption.mean_noise_span_length"] = cfg.SpanCorruption.MeanNoiseSpanLength.ToString("R", inv),
        };
        foreach (var (file, print) in TrainingData.Fingerprints(cfg.Data)) d["data file " + file] = print;
        return d;
    }
}

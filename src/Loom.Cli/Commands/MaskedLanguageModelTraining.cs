// `loom train` for a family whose pre-training objective is the masked LM (model.model_type: bert):
// a WordPiece tokenizer, every non-blank text line (or JSONL record) a document, the documents joined
// by [SEP] into one stream, sequences [CLS] + T − 2 tokens of a random window + [SEP], masked as
// Hugging Face's DataCollatorForLanguageModeling (mlm.* settings), trained by the same loop as causal
// runs (checkpoints, bit-identical resume, metrics.jsonl, report.html; the loss is the masked-LM
// cross-entropy), and saved as a Hugging Face BertForMaskedLM directory with the tokenizer's files.
using System.Text.Json;
using System.Text.Json.Nodes;
using Loom.Core.IO;
using Loom.Models;
using Loom.Models.Families;
using Loom.Tokenizers;
using Loom.Tokenizers.Formats;
using Loom.Tokenizers.Shards;
using Loom.Tokenizers.Trainer;
using Loom.Training.Checkpoints;
using Loom.Training.Loop;
using Loom.Training.Masking;
using Spectre.Console;

namespace Loom.Cli.Commands;

internal static class MaskedLanguageModelTraining
{
    /// <summary>The family of the run when it pre-trains with the masked-LM objective (its registry row says so), else null.</summary>
    public static ModelFamily? MaskedFamily(TrainConfig cfg)
    {
        ModelFamily? family;
        if (cfg.InitFrom != null) family = ModelFamilies.ForConfiguration(CausalLanguageModels.ReadConfig(cfg.InitFrom, causalOnly: false));
        else family = cfg.Model["model_type"] is JsonValue v && v.TryGetValue<string>(out var type) ? ModelFamilies.Find(type) : null;
        return family is { CreateCausalLanguageModel: null, CreateMaskedLanguageModel: not null } ? family : null;
    }

    public static int Run(IAnsiConsole console, TrainConfig cfg, ModelFamily family, string? resumeFrom, bool overwrite)
    {
        if (cfg.Data.Count == 0) throw new ArgumentException("No training data: set data: [files...] in the configuration or --set data=[\"file.txt\"].");
        if (cfg.Batching != "windows")
            throw new ArgumentException($"batching is \"{cfg.Batching}\", but model_type \"{family.ModelType}\" pre-trains on [CLS] … [SEP] windows of the joined documents; remove batching or set it to \"windows\".");
        var tokenizer = LoadTokenizer(cfg.Tokenizer, family.ModelType);
        int cls = RequiredToken(tokenizer, "[CLS]", cfg.Tokenizer), sep = RequiredToken(tokenizer, "[SEP]", cfg.Tokenizer), mask = RequiredToken(tokenizer, "[MASK]", cfg.Tokenizer);

        object modelConfig;
        if (cfg.InitFrom != null) modelConfig = CausalLanguageModels.ReadConfig(cfg.InitFrom, causalOnly: false);
        else
        {
            var node = cfg.Model.DeepClone().AsObject();
            if (node["vocab_size"] is null || node["vocab_size"]!.ToJsonString() is "0" or "0.0") node["vocab_size"] = tokenizer.VocabularySize;
            modelConfig = CausalLanguageModels.ParseConfig(node, "model", causalOnly: false);
        }
        TrainingMemory.EnsureFits(modelConfig, cfg.Train);
        var fixedSettings = FixedSettings(cfg, tokenizer);
        if (resumeFrom != null)
        {
            TrainingCheckpoint.EnsureSameFixedSettings(resumeFrom, TrainingCheckpoint.ReadState(resumeFrom), LanguageModelTraining.FixedSettings(cfg.Train, fixedSettings));
            TrainingCheckpoint.EnsureSameModel(resumeFrom, modelConfig);
        }
        else
            RunDirectory.CheckFresh(cfg.Output, overwrite, [cfg.InitFrom, cfg.Tokenizer, .. cfg.Data]);   // deletes nothing yet

        using var model = family.CreateMaskedLanguageModel!(modelConfig, ModelOptions.Default, null);
        if (cfg.InitFrom != null) CausalLanguageModels.LoadWeights(model, Path.Combine(cfg.InitFrom, "model.safetensors"));
        else model.InitializeWeights(cfg.Seed);
        cfg = cfg with { Model = JsonSerializer.SerializeToNode(model.Configuration, model.Configuration.GetType())!.AsObject() };
        if (tokenizer.VocabularySize > model.VocabularySize)
            throw new ArgumentException($"The tokenizer has {tokenizer.VocabularySize} ids but model.vocab_size is {model.VocabularySize}; remove model.vocab_size to take the tokenizer's.");
        if (cfg.Train.SequenceLength > model.ContextLength)
            throw new ArgumentException($"train.sequence_length is {cfg.Train.SequenceLength} but the model's context (model.max_position_embeddings) is {model.ContextLength}; lower one or raise the other.");
        if (cfg.Train.SequenceLength < 3)
            throw new ArgumentException($"train.sequence_length is {cfg.Train.SequenceLength}; a masked-LM sequence holds [CLS], at least one token and [SEP], so it must be at least 3.");
        console.MarkupLine("[bold]configuration[/]");
        console.WriteLine(JsonSerializer.Serialize(cfg, TrainConfig.Json));

        var repaired = new InputCounters();
        // Every non-blank line of a text file, or each JSONL record's field, is a document; documents are
        // joined by [SEP] (one after each), as HF's tokenizer closes each line's [CLS] … [SEP] before group_texts.
        var (tokens, documents) = DocumentStream.Read(cfg.Data, cfg.Field, repaired, tokenizer.EncodeIds, sep,
            "masked-LM pre-training reads text or JSONL files (it tokenizes with the WordPiece tokenizer itself)");
        if (repaired.Warning("the training data") is { } warning) console.MarkupLine($"[yellow]warning:[/] {Markup.Escape(warning)}");
        var o = cfg.Train;
        int cut = (int)(tokens.Length * (1 - cfg.ValidationFraction));
        int span = o.SequenceLength - 2;
        if (cut < span || tokens.Length - cut < span)
            throw new ArgumentException($"The data holds {tokens.Length:N0} tokens: {cut:N0} for training and {tokens.Length - cut:N0} for validation (validation_fraction {cfg.ValidationFraction}), " +
                                        $"but each sequence of train.sequence_length {o.SequenceLength} needs {span} of them; add data or lower train.sequence_length.");
        var specials = Specials(tokenizer);
        var continuations = Continuations(tokenizer);
        IBatchSource train = new MaskedLanguageModelBatches(tokens[..cut], o.BatchSize, o.SequenceLength, cls, sep,
            new MaskedLanguageModelCollator(cfg.Mlm, tokenizer.VocabularySize, mask, specials, continuations), o.Seed);
        IBatchSource validation = new MaskedLanguageModelBatches(tokens[cut..], o.BatchSize, o.SequenceLength, cls, sep,
            new MaskedLanguageModelCollator(cfg.Mlm, tokenizer.VocabularySize, mask, specials, continuations), seed: 0);

        if (resumeFrom == null) RunDirectory.PrepareFresh(cfg.Output, overwrite);
        Directory.CreateDirectory(cfg.Output);
        DurableFile.WriteAllText(Path.Combine(cfg.Output, "train_config.json"), JsonSerializer.Serialize(cfg, TrainConfig.Json));
        console.MarkupLine($"{documents:N0} documents; {cut:N0} train and {tokens.Length - cut:N0} validation tokens; {model.Parameters.Count / 1e6:F2}M parameters " +
                           $"({Markup.Escape(CausalLanguageModels.Describe(model.Configuration))}), masked LM ({cfg.Mlm.Probability:0.###} of the tokens{(cfg.Mlm.WholeWordMask ? ", whole words" : "")}), " +
                           $"{o.Precision.ToString().ToLowerInvariant()}" + (resumeFrom != null ? $"; resuming from {Markup.Escape(resumeFrom)}" : ""));
        TrainResult result = null!;
        console.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn()).Start(ctx =>
        {
            var task = ctx.AddTask("training", maxValue: o.MaxSteps);
            var progress = new TrainCommand.InlineProgress<StepMetrics>(s =>
            {
                task.Value = s.Step;
                task.Description = $"step {s.Step}/{s.MaxSteps} mlm loss {s.Loss:F3} lr {s.LearningRate:E1}" + (s.Applied ? "" : " (skipped: fp16 overflow)");
            });
            result = LanguageModelTraining.Train(model, train, validation, o, cfg.Output, progress, default, resumeFrom, fixedSettings);
        });
        model.Save(cfg.Output);
        CopyTokenizer(cfg.Tokenizer, cfg.Output);
        console.MarkupLine($"step {result.Steps}: train masked-LM loss {result.LastTrainLoss:F4}, [bold]validation masked-LM loss {result.ValidationLoss:F4}[/] " +
                           $"(ln vocab = {Math.Log(tokenizer.VocabularySize):F2}); wrote {Markup.Escape(Path.Combine(cfg.Output, "report.html"))} and the model (BertForMaskedLM)");
        return 0;
    }

    private static WordPieceTokenizer LoadTokenizer(string name, string modelType)
    {
        if (!WordPieceFormats.IsWordPiece(name))
            throw new ArgumentException($"tokenizer is \"{name}\", which is not a WordPiece tokenizer, but model_type \"{modelType}\" pre-trains with one (its [CLS], [SEP] and [MASK] tokens and ## continuations): " +
                                        "give a vocab.txt, a WordPiece tokenizer.json or a folder holding either; `loom tokenizer train --model wordpiece` makes one.");
        return WordPieceTokenizer.Load(name);
    }

    private static int RequiredToken(WordPieceTokenizer tokenizer, string token, string name) =>
        tokenizer.TokenToId(token) ?? throw new InvalidDataException($"The tokenizer {name} has no {token} token, which masked-LM pre-training needs; train one with `loom tokenizer train --model wordpiece` (its default special tokens include it).");

    // HF's all_special_ids: the added special tokens and the named ones ([UNK] included) are never chosen.
    private static HashSet<int> Specials(WordPieceTokenizer tokenizer)
    {
        var ids = tokenizer.AddedTokens.Where(t => t.Special).Select(t => t.Id).ToHashSet();
        foreach (var name in new[] { "[CLS]", "[SEP]", "[PAD]", "[MASK]", "[UNK]", tokenizer.Model.UnknownToken })
            if (tokenizer.TokenToId(name) is int id) ids.Add(id);
        return ids;
    }

    private static IEnumerable<int> Continuations(WordPieceTokenizer tokenizer)
    {
        string prefix = tokenizer.Model.ContinuingSubwordPrefix;
        foreach (var (token, id) in tokenizer.Model.Vocabulary)
            if (prefix.Length > 0 && token.StartsWith(prefix, StringComparison.Ordinal) && token.Length > prefix.Length) yield return id;
    }

    // The files of the tokenizer go next to the model, under the names Hugging Face looks for.
    private static void CopyTokenizer(string source, string output)
    {
        string[] names = ["vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"];
        if (Directory.Exists(source))
        {
            foreach (var n in names)
                if (File.Exists(Path.Combine(source, n))) DurableFile.WriteAllBytes(Path.Combine(output, n), File.ReadAllBytes(Path.Combine(source, n)));
            return;
        }
        string target = source.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? "tokenizer.json" : "vocab.txt";
        DurableFile.WriteAllBytes(Path.Combine(output, target), File.ReadAllBytes(source));
        string? dir = Path.GetDirectoryName(Path.GetFullPath(source));
        if (target == "vocab.txt" && dir != null && File.Exists(Path.Combine(dir, "tokenizer_config.json")))
            DurableFile.WriteAllBytes(Path.Combine(output, "tokenizer_config.json"), File.ReadAllBytes(Path.Combine(dir, "tokenizer_config.json")));
    }

    // What decides the batches besides the train.* options: the tokenizer (its vocabulary, by hash), the
    // data files and their content, the split and the masking.
    private static Dictionary<string, string> FixedSettings(TrainConfig cfg, WordPieceTokenizer tokenizer)
    {
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        var vocab = string.Join("\n", Enumerable.Range(0, tokenizer.VocabularySize).Select(i => tokenizer.IdToToken(i) ?? ""));
        var d = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["tokenizer (vocabulary sha256)"] = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(vocab)))[..16].ToLowerInvariant(),
            ["batching"] = cfg.Batching,
            ["validation_fraction"] = cfg.ValidationFraction.ToString("R", inv),
            ["field"] = cfg.Field,
            ["mlm.probability"] = cfg.Mlm.Probability.ToString("R", inv),
            ["mlm.mask_replace_probability"] = cfg.Mlm.MaskReplaceProbability.ToString("R", inv),
            ["mlm.random_replace_probability"] = cfg.Mlm.RandomReplaceProbability.ToString("R", inv),
            ["mlm.whole_word_mask"] = cfg.Mlm.WholeWordMask ? "true" : "false",
        };
        foreach (var (file, print) in TrainingData.Fingerprints(cfg.Data)) d["data file " + file] = print;
        return d;
    }
}

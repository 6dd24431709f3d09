// The one place the CLI builds sequence classifiers, through Loom.Models' SequenceClassifiers
// (which dispatches through the family registry): from a Hugging Face directory (a base model gets a
// freshly initialised head; a *ForSequenceClassification directory its trained head), or fresh from
// a config block whose model_type the registry knows.
using System.Text.Json.Nodes;
using Loom.Models;
using Loom.Models.Classification;
using Loom.Models.Families;
using Loom.Training.Classification;

namespace Loom.Cli.Commands;

internal static class ClassifierFactory
{
    /// <summary>The model `loom finetune` trains: the labels, problem type and pad id come from the data and the tokenizer.</summary>
    public static ISequenceClassificationModel ForTraining(FineTuneConfig cfg, LabelSet labels, SequenceEncoder encoder)
    {
        var options = new SequenceClassifierOptions
        {
            NumLabels = labels.Count, ProblemType = labels.ProblemType, Labels = labels.Names, PadTokenId = encoder.PadId, Seed = cfg.Train.Seed,
        };
        JsonObject? source = cfg.Model;
        if (cfg.InitFrom is { } from && File.Exists(Path.Combine(from, "config.json")))
        {
            try { source = JsonNode.Parse(File.ReadAllText(Path.Combine(from, "config.json"))) as JsonObject; }
            catch (System.Text.Json.JsonException) { source = null; }   // SequenceClassifiers.Load names the broken file
        }
        // Dropout as Hugging Face's model.train() applies it: the config's probabilities unless train.* overrides them.
        var modelOptions = ModelOptions.Default with
        {
            Dropout = new Loom.Models.Regularization.DropoutOptions
            {
                Hidden = cfg.Train.HiddenDropout ?? Probability(source, "hidden_dropout_prob", "resid_pdrop"),
                Attention = cfg.Train.AttentionDropout ?? Probability(source, "attention_probs_dropout_prob", "attn_pdrop"),
                Seed = (ulong)cfg.Train.Seed,
            },
        };
        return cfg.InitFrom is { } dir
            ? SequenceClassifiers.Load(dir, options, modelOptions)
            : SequenceClassifiers.Create(ParseConfig(cfg.Model!, encoder.VocabularySize), options, modelOptions);
    }

    // The first of Hugging Face's names for a dropout probability present in the config (0 when none is).
    private static float Probability(JsonObject? config, params string[] names)
    {
        foreach (var name in names)
            if (config?[name] is JsonValue v && v.TryGetValue(out double p))
                return p >= 0 && p < 1 ? (float)p : throw new ArgumentException($"{name} is {p} in the model config; a dropout probability must be at least 0 and less than 1.");
        return 0f;
    }

    /// <summary>
    /// A trained classifier for `loom classify` (inference: every parameter frozen, no gradient memory).
    /// SequenceClassifiers.Load initialises a missing head (and BERT pooler) at random, as HF's
    /// from_pretrained does for fine-tuning; for inference that would print random predictions, so a
    /// directory without a trained head is refused first.
    /// </summary>
    public static ISequenceClassificationModel ForInference(string directory, string? adapter = null)
    {
        var head = TrainedHead.Inspect(directory);
        if (head is { HasHead: false } or { HasPooler: false })
            throw new InvalidDataException($"--model {directory} has no classification head (its config.json architectures is {head.Architecture}; model.safetensors has no {(head.HasHead ? head.PoolerTensor : head.HeadTensor)}); fine-tune it first with loom finetune.");
        if (adapter != null)
        {
            // The adapter goes through the projection seam: options that wrap the targeted projections, then its tensors.
            if (!Directory.Exists(adapter)) throw new DirectoryNotFoundException($"--adapter {adapter} does not exist; give a LoRA adapter directory (adapter_config.json, adapter_model.safetensors).");
            var configuration = CausalLanguageModels.ReadConfig(directory, causalOnly: false);
            var (options, lora) = Loom.Models.Adapters.LoraAdapters.Apply(ModelOptions.Inference, configuration, adapter);
            var model = SequenceClassifiers.Load(directory, new SequenceClassifierOptions(), options);
            try
            {
                Loom.Models.Adapters.LoraAdapters.LoadInto(model.Parameters, configuration, lora, adapter);
                return model;
            }
            catch
            {
                model.Dispose();
                throw;
            }
        }
        try { return SequenceClassifiers.Load(directory, new SequenceClassifierOptions(), ModelOptions.Inference); }
        catch (InvalidOperationException e) when (e.Message.Contains("pad_token_id", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"--model {directory} has no pad_token_id, so its classifier can read only one text at a time; pass --batch-size 1 or set pad_token_id in {Path.Combine(directory, "config.json")}.", e);
        }
    }

    /// <summary>
    /// init_from's trained head against the run's labels (HF would reuse the head by class id, so another
    /// order or other names would silently relabel its rows): the same names in another order are adopted
    /// when the config gives no labels; anything else is refused. Returns the label set to train with.
    /// </summary>
    public static LabelSet ReconcileWithInitFrom(FineTuneConfig cfg, LabelSet labels)
    {
        if (cfg.InitFrom is not { } from || TrainedHead.Inspect(from) is not { HasHead: true } head) return labels;
        string theirs = $"{SequenceClassifiers.ProblemTypeName(head.ProblemType)} [{string.Join(", ", head.Labels)}]";
        string ours = $"{SequenceClassifiers.ProblemTypeName(labels.ProblemType)} [{string.Join(", ", labels.Names)}]";
        const string Fix = "to train a new head for these labels, start from the base model (init_from the model it was fine-tuned from, or model:) instead";
        if (head.ProblemType != labels.ProblemType)
            throw new ArgumentException($"init_from {from} is a trained {theirs} classifier, but this run is {ours} (task:); {Fix}.");
        if (labels.ProblemType == ProblemType.Regression)
            return head.Labels.Count == labels.Count ? labels
                : throw new ArgumentException($"init_from {from} has a regression head with {head.Labels.Count} output(s), but this run has {labels.Count}; {Fix}.");
        if (head.Labels.SequenceEqual(labels.Names, StringComparer.Ordinal)) return labels;
        bool sameSet = head.Labels.Count == labels.Count && head.Labels.ToHashSet(StringComparer.Ordinal).SetEquals(labels.Names);
        if (!sameSet)
            throw new ArgumentException($"init_from {from} has a trained head for the labels [{string.Join(", ", head.Labels)}] (its id2label), but this run's labels are [{string.Join(", ", labels.Names)}]; its rows would be reused for other classes. {char.ToUpperInvariant(Fix[0])}{Fix[1..]}.");
        if (cfg.Labels != null)
            throw new ArgumentException($"labels: [{string.Join(", ", labels.Names)}] orders the classes differently from init_from {from}'s id2label [{string.Join(", ", head.Labels)}], whose head rows follow that order; give labels: [{string.Join(", ", head.Labels)}] or leave labels: out to take init_from's order.");
        return new LabelSet(head.Labels, labels.ProblemType);
    }

    /// <summary>id2label of a model.</summary>
    public static IReadOnlyList<string> LabelsOf(ISequenceClassificationModel model) => SequenceClassifiers.LabelsOf(model);

    /// <summary>A fresh model's config record from the YAML block, through the family registry; vocab_size 0 or absent: the tokenizer's.</summary>
    public static object ParseConfig(JsonObject block, int tokenizerVocabulary)
    {
        var node = block.DeepClone().AsObject();
        if (node["vocab_size"] is null || node["vocab_size"]!.ToJsonString() is "0" or "0.0") node["vocab_size"] = tokenizerVocabulary;
        string type = node["model_type"] is JsonValue v && v.TryGetValue(out string? t) ? t
            : throw new ArgumentException($"model.model_type is {node["model_type"]?.ToJsonString() ?? "missing"}; it must be one of {string.Join(", ", ModelFamilies.All.Select(f => f.ModelType))}.");
        var family = ModelFamilies.Find(type)
            ?? throw new NotSupportedException($"model.model_type \"{type}\" is not supported; use one of {string.Join(", ", ModelFamilies.All.Select(f => f.ModelType))}.");
        object config;
        try { config = family.ReadConfiguration(node); }
        catch (System.Text.Json.JsonException e)
        {
            string field = (e.Path ?? "$").TrimStart('$').TrimStart('.');
            throw new InvalidDataException($"model.{field}: {e.Message.Split(" Path:")[0]}", e);
        }
        family.Validate?.Invoke(config, "model.");
        if (family.VocabularySize?.Invoke(config) is { } vocab && vocab < tokenizerVocabulary)
            throw new ArgumentException($"model.vocab_size is {vocab} but the tokenizer has {tokenizerVocabulary} ids; raise it or leave it out to take the tokenizer's.");
        return config;
    }
}

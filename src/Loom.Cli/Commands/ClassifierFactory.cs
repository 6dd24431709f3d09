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

    /// <summary>A trained classifier for `loom classify` (inference: every parameter frozen, no gradient memory).</summary>
    public static ISequenceClassificationModel ForInference(string directory) =>
        SequenceClassifiers.Load(directory, new SequenceClassifierOptions(), ModelOptions.Inference);

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

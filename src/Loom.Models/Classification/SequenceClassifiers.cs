// Opens or builds sequence classifiers for any registered family (Families/ModelFamilies, row
// SequenceClassifier): from a Hugging Face directory of a base model (GPT2Model/GPT2LMHeadModel,
// LlamaForCausalLM, BertModel/BertForMaskedLM: the head is initialised with the seed, as HF does
// for "newly initialized" weights) or of a fine-tuned *ForSequenceClassification (head loaded), or
// fresh from a config record. Labels, problem_type and pad_token_id follow HF's PretrainedConfig.
using System.Text.Json;
using System.Text.Json.Nodes;
using Loom.Core.Diagnostics;
using Loom.Core.IO;
using Loom.Core.Threading;
using Loom.Core.Validation;
using Loom.Models.Families;
using Loom.Models.Formats;
using Loom.Models.Parameters;

namespace Loom.Models.Classification;

/// <summary>Load, create and describe sequence classifiers.</summary>
public static class SequenceClassifiers
{
    /// <summary>
    /// Opens a Hugging Face directory (config.json + model.safetensors). Body weights must all be
    /// present (under the classifier's, the base LM's or the bare body's names); head weights are
    /// loaded when present, else initialised N(0, initializer_range) with <see cref="SequenceClassifierOptions.Seed"/>.
    /// </summary>
    public static ISequenceClassificationModel Load(string directory, SequenceClassifierOptions options, ModelOptions? modelOptions = null, WorkerPool? pool = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (File.Exists(directory)) throw new ArgumentException($"{directory} is a file; a model directory holds config.json and model.safetensors.");
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"Model directory {directory} does not exist.");
        InputFiles.RequireRegularMembers(directory, "Model directory");
        string configPath = Path.Combine(directory, "config.json");
        if (!File.Exists(configPath)) throw new FileNotFoundException($"{directory} has no config.json; a model directory holds config.json and model.safetensors.", configPath);
        string weights = Path.Combine(directory, "model.safetensors");
        if (!File.Exists(weights)) throw new FileNotFoundException($"{directory} has no model.safetensors.", weights);
        JsonObject json;
        try
        {
            json = JsonNode.Parse(File.ReadAllText(configPath)) as JsonObject
                ?? throw new InvalidDataException($"{configPath} is not a JSON object; it should be the model's configuration (model_type, ...).");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{configPath} is not valid JSON (line {e.LineNumber + 1}): {e.Message.Split(" Path:")[0].Split(" LineNumber:")[0]}", e);
        }
        var (family, configuration) = ParseConfig(json, configPath);
        var model = Build(family, configuration, json, configPath, options, modelOptions ?? ModelOptions.Default, pool);
        try
        {
            LoadWeights(model, family.SequenceClassifier!, weights, options.Seed, ReadFloat(json, "initializer_range", configPath) ?? 0.02f);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>A fresh model from a family config record (Gpt2Config, LlamaConfig, BertConfig), body and head initialised with <see cref="SequenceClassifierOptions.Seed"/>.</summary>
    public static ISequenceClassificationModel Create(object configuration, SequenceClassifierOptions options, ModelOptions? modelOptions = null, WorkerPool? pool = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(options);
        var family = ModelFamilies.ForConfiguration(configuration)
            ?? throw new NotSupportedException($"No registered model family has the config type {configuration.GetType().Name}.");
        var model = Build(family, configuration, null, "configuration", options, modelOptions ?? ModelOptions.Default, pool);
        family.SequenceClassifier!.InitializeBody(model.Body, options.Seed);
        InitializeHead(model, options.Seed, 0.02f);
        return model;
    }

    /// <summary>id2label of a model (index = class id).</summary>
    public static IReadOnlyList<string> LabelsOf(ISequenceClassificationModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model is SequenceClassifier s) return s.Labels;
        return Enumerable.Range(0, model.NumLabels).Select(i => $"LABEL_{i}").ToList();
    }

    /// <summary>config.json's problem_type string.</summary>
    public static string ProblemTypeName(ProblemType type) => type switch
    {
        ProblemType.SingleLabel => "single_label_classification",
        ProblemType.MultiLabel => "multi_label_classification",
        ProblemType.Regression => "regression",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    private static (ModelFamily Family, object Configuration) ParseConfig(JsonObject json, string path)
    {
        string type = "gpt2";
        if (json["model_type"] is { } t)
            type = t is JsonValue v && v.TryGetValue<string>(out var name) ? name
                : throw new InvalidDataException($"{path}: model_type is {t.ToJsonString()}; it must be a string such as \"gpt2\", \"llama\" or \"bert\".");
        var family = ModelFamilies.Find(type);
        if (family?.SequenceClassifier is null)
            throw new NotSupportedException($"{path}: model_type \"{type}\" has no sequence classifier; supported: {string.Join(", ", ModelFamilies.All.Where(f => f.SequenceClassifier != null).Select(f => f.ModelType))}.");
        try
        {
            object configuration = family.ReadConfiguration(json);
            family.Validate?.Invoke(configuration, "");
            return (family, configuration);
        }
        catch (JsonException e)
        {
            string field = (e.Path ?? "$").TrimStart('$').TrimStart('.');
            throw new InvalidDataException($"{path}: {(field.Length > 0 ? field + ": " : "")}{e.Message.Split(" Path:")[0]}", e);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"{path}: {e.Message}", e);
        }
    }

    private static SequenceClassifier Build(ModelFamily family, object configuration, JsonObject? json, string source,
        SequenceClassifierOptions options, ModelOptions modelOptions, WorkerPool? pool)
    {
        var layout = family.SequenceClassifier ?? throw new NotSupportedException($"model_type \"{family.ModelType}\" has no sequence classifier.");
        if (family.CreateHiddenStateModel is null) throw new NotSupportedException($"model_type \"{family.ModelType}\" has no body (hidden states).");
        string at = json is null ? "" : source + ": ";

        // id2label as HF stores it: {"0": "neg", "1": "pos"}; num_labels when present.
        List<string>? configLabels = null;
        if (json?["id2label"] is JsonObject id2label)
        {
            configLabels = new List<string>(new string[id2label.Count]);
            foreach (var (k, v) in id2label)
            {
                if (!int.TryParse(k, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int id) || id >= id2label.Count)
                    throw new InvalidDataException($"{at}id2label key \"{k}\" is not a class id 0..{id2label.Count - 1}; id2label maps each id to its label name.");
                configLabels[id] = v is JsonValue s && s.TryGetValue<string>(out var n) ? n
                    : throw new InvalidDataException($"{at}id2label[\"{k}\"] is {v?.ToJsonString() ?? "null"}; label names are strings.");
            }
        }
        int? configNum = json is null ? null : ReadInt(json, "num_labels", source);
        int numLabels = options.NumLabels ?? options.Labels?.Count ?? configNum ?? configLabels?.Count ?? 2;
        Setting.AtLeast("NumLabels", numLabels, 1);
        IReadOnlyList<string> labels = options.Labels ?? (configLabels?.Count == numLabels ? configLabels : Enumerable.Range(0, numLabels).Select(i => $"LABEL_{i}").ToList());
        if (labels.Count != numLabels)
            throw new ArgumentException($"Labels has {labels.Count} names but NumLabels is {numLabels}; give one name per class.");
        if (labels.Distinct(StringComparer.Ordinal).Count() != labels.Count)
            throw new ArgumentException($"Labels repeats a name ({string.Join(", ", labels.GroupBy(l => l).Where(g => g.Count() > 1).Select(g => $"\"{g.Key}\""))}); label2id needs each name once.");

        ProblemType problem = options.ProblemType
            ?? (json?["problem_type"] is JsonValue pv && pv.TryGetValue<string>(out var pt) ? ParseProblemType(pt, $"{at}problem_type")
                : numLabels == 1 ? ProblemType.Regression : ProblemType.SingleLabel);
        if (problem == ProblemType.SingleLabel && numLabels < 2)
            throw new ArgumentException($"single_label_classification needs at least 2 classes; NumLabels is {numLabels} (1 label is regression).");

        int? pad = options.PadTokenId ?? (json is null ? null : ReadInt(json, "pad_token_id", source));
        float dropout = 0;
        bool dropoutExplicit = options.ClassifierDropout is not null;
        if (layout.ClassifierDropoutFallback is { } fallback)
            dropout = options.ClassifierDropout ?? (json is null ? null : ReadFloat(json, "classifier_dropout", source) ?? ReadFloat(json, fallback, source)) ?? 0f;
        if (!(dropout >= 0 && dropout < 1)) throw Setting.Error(dropoutExplicit ? "ClassifierDropout" : $"{at}classifier_dropout", dropout, "in [0, 1)");

        // The head's tensors join the body's ParameterSet; the body is built without the LM head it
        // would not use (no lm_head / cls.predictions tensors, no (B, T, V) logits planned).
        var bodyOptions = modelOptions with
        {
            Trainable = Compose(modelOptions.Trainable, layout),
            HeadParameters = [.. modelOptions.HeadParameters, .. SequenceClassifier.HeadTensors(layout, layout.HiddenSize(configuration), numLabels)],
            HiddenStatesOnly = true,
        };
        EnsureFits(family, layout, configuration, bodyOptions, numLabels);
        var body = family.CreateHiddenStateModel(configuration, bodyOptions, pool);
        try
        {
            return new SequenceClassifier(configuration, layout, body, bodyOptions, numLabels, problem, labels, pad, dropout, dropoutExplicit, json, pool);
        }
        catch
        {
            body.Dispose();
            throw;
        }
    }

    // Checked before the parameter block is allocated, as loom train checks before building a model:
    // values, plus a gradient for each trainable tensor (an inference build has none).
    private static void EnsureFits(ModelFamily family, SequenceClassifierLayout layout, object configuration, ModelOptions options, int numLabels)
    {
        var tensors = layout.BodyTensors(configuration).Concat(options.HeadParameters).ToList();
        double values, gradients;
        try
        {
            values = ParameterSet.PlanFloats(tensors) * (double)sizeof(float);
            gradients = ParameterSet.PlanFloats(tensors.Where(t => options.Trainable?.Invoke(t.Name) ?? true)) * (double)sizeof(float);
        }
        catch (OverflowException)
        {
            values = gradients = double.PositiveInfinity;
        }
        double vocabulary = (double)(family.VocabularySize?.Invoke(configuration) ?? 0) * layout.HiddenSize(configuration) * sizeof(float);
        MemoryBudget.EnsureFits(values + gradients,
            $"The {family.Describe(configuration)} {layout.Architecture} with {numLabels} labels " +
            $"(parameters {MemoryBudget.Gigabytes(values)}{(gradients > 0 ? $", gradients {MemoryBudget.Gigabytes(gradients)}" : "")}) would",
            vocabulary * 2 > values ? $"vocab_size (now {family.VocabularySize!(configuration):N0})" : "the number or width of the layers (n_layer / n_embd, or num_hidden_layers / hidden_size)");
    }

    private static Func<string, bool> Compose(Func<string, bool>? trainable, SequenceClassifierLayout layout) =>
        n => !layout.OutsideClassifier(n) && (trainable?.Invoke(n) ?? true);

    internal static ProblemType ParseProblemType(string text, string field) => text switch
    {
        "single_label_classification" => ProblemType.SingleLabel,
        "multi_label_classification" => ProblemType.MultiLabel,
        "regression" => ProblemType.Regression,
        _ => throw new InvalidDataException($"{field} is \"{text}\"; use single_label_classification, multi_label_classification or regression."),
    };

    private static int? ReadInt(JsonObject json, string key, string source)
    {
        if (json[key] is not { } node) return null;
        return node is JsonValue v && v.TryGetValue<int>(out int i) ? i
            : node is JsonValue d && d.TryGetValue<double>(out double x) && x == Math.Floor(x) && Math.Abs(x) < int.MaxValue ? (int)x
            : throw new InvalidDataException($"{source}: {key} is {node.ToJsonString()}; it must be an integer.");
    }

    private static float? ReadFloat(JsonObject json, string key, string source)
    {
        if (json[key] is not { } node) return null;
        return node is JsonValue v && v.TryGetValue<double>(out double x) ? (float)x
            : throw new InvalidDataException($"{source}: {key} is {node.ToJsonString()}; it must be a number.");
    }

    // HF _init_weights for a new nn.Linear: weight N(0, initializer_range), bias 0.
    private static void InitializeHead(SequenceClassifier model, int seed, float std)
    {
        var p = model.Parameters;
        var rng = new Random(seed);
        foreach (var (spec, i) in p.Specs.Select((s, i) => (s, i)))
        {
            if (!IsScore(model, spec.Name)) continue;
            var v = p.Value(i);
            if (spec.Shape.Length == 1) v.Clear();
            else for (int j = 0; j < v.Length; j++) v[j] = std * Gpt2.Gpt2Model.Gaussian(rng);
        }
    }

    private static bool IsScore(SequenceClassifier model, string name) =>
        name.StartsWith(model.ScoreModule + ".", StringComparison.Ordinal);

    private static void LoadWeights(SequenceClassifier model, SequenceClassifierLayout layout, string path, int seed, float std)
    {
        using var file = SafetensorsFile.Open(path);
        var p = model.Parameters;
        var used = new HashSet<string>(StringComparer.Ordinal);
        bool headPresent = file.Tensors.ContainsKey(layout.ScoreModule + ".weight");
        var rng = new Random(seed);
        foreach (var (spec, i) in p.Specs.Select((s, i) => (s, i)))
        {
            // A model built with LoRA options (classify --adapter): its lora_A/lora_B come from the adapter file (LoraAdapters.LoadInto).
            if (spec.Name.EndsWith(".lora_A.weight", StringComparison.Ordinal) || spec.Name.EndsWith(".lora_B.weight", StringComparison.Ordinal)) continue;
            bool score = IsScore(model, spec.Name);
            string? found = score
                ? (headPresent ? spec.Name : null)
                : new[] { spec.Name, layout.BodyPrefix + spec.Name }.Concat(layout.AlternativeNames(spec.Name)).FirstOrDefault(file.Tensors.ContainsKey);
            if (found != null)
            {
                var entry = file.Tensors[found];
                if (score && !entry.Shape.SequenceEqual(spec.Shape))
                    throw new InvalidDataException($"{path}: the head \"{found}\" has shape {entry.ShapeText}, but the model has {model.NumLabels} labels ([{string.Join(", ", spec.Shape)}]); load with NumLabels = {entry.Shape[0]}, or start from the base model to train a new head.");
                file.ReadSingle(found, p.Value(i), spec.Shape);
                used.Add(found);
                continue;
            }
            bool pooler = layout.PoolerModule is { } m && spec.Name.StartsWith(m + ".", StringComparison.Ordinal);
            if (layout.OutsideClassifier(spec.Name)) continue;   // the LM head a classifier does not use
            if (!(score || pooler))
                throw new InvalidDataException($"{path}: no tensor \"{layout.BodyPrefix}{spec.Name}\", which the config ({CausalLanguageModels.Describe(model.Configuration)}) needs; config.json does not match the weights.");
            // A new head (and BERT's pooler when the checkpoint is BertForMaskedLM, which has none): HF initialises them.
            var v = p.Value(i);
            if (spec.Shape.Length == 1) v.Clear();
            else for (int j = 0; j < v.Length; j++) v[j] = std * Gpt2.Gpt2Model.Gaussian(rng);
        }
        foreach (var name in file.Tensors.Keys)
            if (!used.Contains(name) && !IsIgnorable(name, layout))
                throw new InvalidDataException($"{path}: tensor \"{name}\" is not part of the configured model ({CausalLanguageModels.Describe(model.Configuration)}); config.json does not match the weights (e.g. fewer layers than the checkpoint's).");
        ParameterCheck.EnsureFinite(p, path);
    }

    // Tensors of a base checkpoint a classifier does not use: causal-mask and rotary buffers, position
    // ids, LM and pre-training heads.
    private static bool IsIgnorable(string name, SequenceClassifierLayout layout) =>
        name.EndsWith(".attn.bias", StringComparison.Ordinal) || name.EndsWith(".attn.masked_bias", StringComparison.Ordinal)
        || name.EndsWith(".rotary_emb.inv_freq", StringComparison.Ordinal) || name.EndsWith("position_ids", StringComparison.Ordinal)
        || name == "lm_head.weight" || name.StartsWith("cls.", StringComparison.Ordinal) || layout.OutsideClassifier(name);
}

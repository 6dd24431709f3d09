// Opens a causal language model from a Hugging Face style directory (config.json + model.safetensors)
// or builds one from a config, choosing the family by config.json's "model_type". Every way in checks
// the same things: the config parses and validates (errors name the field as the user wrote it), the
// planned memory fits the machine before anything is allocated, and weights load only when every
// tensor the config implies is present with its shape, no tensor is left over, and all are finite.
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Loom.Core.Diagnostics;
using Loom.Core.Threading;
using Loom.Models.Formats;
using Loom.Models.Gpt2;
using Loom.Models.Llama;
using Loom.Models.Parameters;

namespace Loom.Models;

/// <summary>Family dispatch on model_type.</summary>
public static class CausalLanguageModels
{
    /// <summary>The model types this build can train and run.</summary>
    public static IReadOnlyList<string> Supported { get; } = ["gpt2", "llama"];

    // Named literals and quoted numbers bind, so "NaN" reaches Validate and is refused by name.
    private static readonly JsonSerializerOptions ConfigJson = new()
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals | JsonNumberHandling.AllowReadingFromString,
    };

    /// <summary>
    /// Parses and validates a config.json tree (model_type defaults to gpt2) into its family's record.
    /// <paramref name="source"/> is how the user knows the block: a YAML key such as "model" (fields are
    /// then named model.n_layer) or a file path ending in .json (fields are named "file: n_layer").
    /// </summary>
    public static object ParseConfig(JsonNode? config, string source)
    {
        bool file = source.EndsWith(".json", StringComparison.OrdinalIgnoreCase);
        string prefix = file ? "" : source + ".";
        if (config is not JsonObject obj)
            throw new InvalidDataException($"{source}: {(config is null ? "empty" : config is JsonArray ? "a JSON array" : "a single value")}, not a model configuration (a JSON object with model_type, vocab_size, ...).");
        string type = "gpt2";
        if (obj["model_type"] is { } t)
            type = t is JsonValue v && v.TryGetValue<string>(out var name) ? name
                : throw new InvalidDataException($"{source}: {prefix}model_type is {t.ToJsonString()}; it must be a string such as \"gpt2\" or \"llama\".");
        try
        {
            object parsed = type switch
            {
                "gpt2" => obj.Deserialize<Gpt2Config>(ConfigJson) ?? new Gpt2Config(),
                "llama" => obj.Deserialize<LlamaConfig>(ConfigJson) ?? new LlamaConfig(),
                "bert" => throw new NotSupportedException($"{source}: model_type \"bert\" is an encoder, not a causal language model; use Loom.Models.Bert.BertModel (masked LM or classification)."),
                _ => throw new NotSupportedException($"{source}: {prefix}model_type \"{type}\" is not supported; supported causal families: {string.Join(", ", Supported)}."),
            };
            switch (parsed)
            {
                case Gpt2Config g: g.Validate(prefix); break;
                case LlamaConfig l: l.Validate(prefix); break;
            }
            return parsed;
        }
        catch (JsonException e)
        {
            string field = (e.Path ?? "$").TrimStart('$').TrimStart('.');
            throw new InvalidDataException($"{source}: {(field.Length > 0 ? prefix + field + ": " : "")}{e.Message.Split(" Path:")[0]}", e);
        }
        catch (ArgumentException e) when (file)
        {
            throw new ArgumentException($"{source}: {e.Message}", e);
        }
    }

    /// <summary>True when <see cref="PlanMemory"/> knows the family of <paramref name="config"/>.</summary>
    public static bool CanPlanMemory(object config) => config is Gpt2Config or LlamaConfig;

    /// <summary>Bytes a model of <paramref name="config"/> would take, with activations planned for <paramref name="batch"/> × <paramref name="time"/>.</summary>
    public static ModelMemory PlanMemory(object config, int batch = 0, int time = 0, bool activationCheckpointing = false) => config switch
    {
        Gpt2Config g => Gpt2Model.PlanMemory(g, batch, time, activationCheckpointing),
        LlamaConfig l => LlamaModel.PlanMemory(l, batch, time),
        _ => throw new NotSupportedException($"No causal language model family for {config.GetType().Name}."),
    };

    /// <summary>Builds an untrained model from a parsed config (see <see cref="ParseConfig"/>), after checking its parameters fit in memory.</summary>
    public static ICausalLanguageModel Create(object config, WorkerPool? pool = null)
    {
        var plan = PlanMemory(config);
        // Values and gradients are each one block of the parameter size.
        MemoryBudget.EnsureFits(2 * plan.ParameterBytes, $"the {Describe(config)} model's parameters and gradients",
            plan.VocabularyBytes * 2 > plan.ParameterBytes ? $"vocab_size ({VocabularySize(config):N0})" : "the number or width of the layers");
        return config switch
        {
            Gpt2Config g => new Gpt2Model(g, pool),
            LlamaConfig l => new LlamaModel(l, pool),
            _ => throw new NotSupportedException($"No causal language model family for {config.GetType().Name}."),
        };
    }

    /// <summary>Builds an untrained model from a config.json tree; <paramref name="source"/> as in <see cref="ParseConfig"/>.</summary>
    public static ICausalLanguageModel Create(JsonNode config, string source, WorkerPool? pool = null) => Create(ParseConfig(config, source), pool);

    /// <summary>Reads and validates <paramref name="directory"/>/config.json.</summary>
    public static object ReadConfig(string directory)
    {
        if (File.Exists(directory)) throw new ArgumentException($"{directory} is a file; a model directory holds config.json, model.safetensors and a tokenizer.");
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"Model directory {directory} does not exist.");
        string config = Path.Combine(directory, "config.json");
        if (!File.Exists(config)) throw new FileNotFoundException($"{directory} has no config.json; a model directory holds config.json, model.safetensors and a tokenizer.", config);
        JsonNode? node;
        try { node = JsonNode.Parse(File.ReadAllText(config)); }
        catch (JsonException e)
        {
            throw new InvalidDataException(new FileInfo(config).Length == 0
                ? $"{config} is empty; it should be the model's JSON configuration (model_type, vocab_size, ...)."
                : $"{config} is not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}): {e.Message.Split(" Path:")[0].Split(" LineNumber:")[0]}", e);
        }
        return ParseConfig(node, config);
    }

    /// <summary>Opens a model directory: config.json chooses the family, model.safetensors gives the weights (checked strictly).</summary>
    public static ICausalLanguageModel Load(string directory, WorkerPool? pool = null)
    {
        var model = Create(ReadConfig(directory), pool);
        try
        {
            LoadWeights(model, Path.Combine(directory, "model.safetensors"));
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Loads <paramref name="path"/> into <paramref name="model"/> and checks that the file is exactly
    /// that model: every tensor present with its shape (the family's loader checks), none left over
    /// (a config with fewer layers than the weights), every value finite.
    /// </summary>
    public static void LoadWeights(ICausalLanguageModel model, string path)
    {
        using var file = SafetensorsFile.Open(path);
        string described = Describe(model.Configuration);
        var specs = model.Parameters.Specs;
        var expected = new HashSet<string>(specs.Select(s => s.Name), StringComparer.Ordinal);
        foreach (var spec in specs)
            if (!file.Tensors.ContainsKey(spec.Name) && !file.Tensors.ContainsKey("transformer." + spec.Name))
                throw new InvalidDataException($"{path}: no tensor \"{spec.Name}\", which the config ({described}) needs; config.json does not match the weights (e.g. n_layer larger than the checkpoint's).");
        foreach (var name in file.Tensors.Keys)
        {
            string bare = name.StartsWith("transformer.", StringComparison.Ordinal) ? name["transformer.".Length..] : name;
            if (!expected.Contains(bare) && !IsBuffer(bare))
                throw new InvalidDataException($"{path}: tensor \"{name}\" is not part of the configured model ({described}); config.json does not match the weights (e.g. n_layer smaller than the checkpoint's).");
        }
        model.LoadWeights(file);
        ParameterCheck.EnsureFinite(model.Parameters, path);
    }

    // Tensors Hugging Face stores that are not parameters: GPT-2's causal-mask buffers, a tied head
    // saved anyway, rotary inverse frequencies.
    private static bool IsBuffer(string name) =>
        name.EndsWith(".attn.bias", StringComparison.Ordinal) || name.EndsWith(".attn.masked_bias", StringComparison.Ordinal)
        || name.EndsWith(".rotary_emb.inv_freq", StringComparison.Ordinal) || name == "lm_head.weight";

    private static int VocabularySize(object configuration) => configuration switch
    {
        Gpt2Config g => g.VocabSize,
        LlamaConfig l => l.VocabSize,
        _ => 0,
    };

    /// <summary>Describes a config for messages: "gpt2 4×192, vocab 50257".</summary>
    public static string Describe(object configuration) => configuration switch
    {
        Gpt2Config g => $"gpt2 {g.Layers} layers × {g.Embedding}, vocab {g.VocabSize}",
        LlamaConfig l => $"llama {l.Layers} layers × {l.HiddenSize}, vocab {l.VocabSize}",
        _ => configuration.ToString() ?? "?",
    };
}

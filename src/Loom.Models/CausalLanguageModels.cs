// Opens a causal language model from a Hugging Face style directory (config.json + model.safetensors)
// or builds one from a config, choosing the family by config.json's "model_type" in the registry
// (Families/ModelFamilies). Every way in checks the same things: the config parses and validates
// (errors name the field as the user wrote it), the planned memory fits the machine before anything
// is allocated, and weights load only when every tensor the config implies is present with its
// shape, no tensor is left over, and all are finite.
using Loom.Core.IO;
using System.Text.Json;
using System.Text.Json.Nodes;
using Loom.Core.Diagnostics;
using Loom.Core.Threading;
using Loom.Models.Families;
using Loom.Models.Formats;
using Loom.Models.Parameters;

namespace Loom.Models;

/// <summary>Family dispatch on model_type.</summary>
public static class CausalLanguageModels
{
    /// <summary>The model types this build can train and run as causal language models.</summary>
    public static IReadOnlyList<string> Supported =>
        ModelFamilies.All.Where(f => f.CreateCausalLanguageModel != null).Select(f => f.ModelType).ToList();

    /// <summary>
    /// Parses and validates a config.json tree (model_type defaults to gpt2) into its family's record.
    /// <paramref name="source"/> is how the user knows the block: a YAML key such as "model" (fields are
    /// then named model.n_layer) or a file path ending in .json (fields are named "file: n_layer").
    /// </summary>
    public static object ParseConfig(JsonNode? config, string source) => ParseConfig(config, source, causalOnly: true);

    /// <summary>
    /// As <see cref="ParseConfig(JsonNode?, string)"/>; with <paramref name="causalOnly"/> false, any
    /// registered family's config (BERT's too) is accepted: for training and checkpoints, which serve
    /// masked language models as well.
    /// </summary>
    public static object ParseConfig(JsonNode? config, string source, bool causalOnly)
    {
        bool file = source.EndsWith(".json", StringComparison.OrdinalIgnoreCase);
        string prefix = file ? "" : source + ".";
        if (config is not JsonObject obj)
            throw new InvalidDataException($"{source}: {(config is null ? "empty" : config is JsonArray ? "a JSON array" : "a single value")}, not a model configuration (a JSON object with model_type, vocab_size, ...).");
        string type = "gpt2";
        if (obj["model_type"] is { } t)
            type = t is JsonValue v && v.TryGetValue<string>(out var name) ? name
                : throw new InvalidDataException($"{source}: {prefix}model_type is {t.ToJsonString()}; it must be a string such as \"gpt2\" or \"llama\".");
        var family = ModelFamilies.Find(type)
            ?? throw new NotSupportedException($"{source}: {prefix}model_type \"{type}\" is not supported; supported causal families: {string.Join(", ", Supported)}.");
        if (causalOnly && family.CreateCausalLanguageModel is null)
            throw new NotSupportedException($"{source}: {family.NotCausalReason ?? $"model_type \"{type}\" has no causal language model."}");
        try
        {
            object parsed = family.ReadConfiguration(obj);
            family.Validate?.Invoke(parsed, prefix);
            return parsed;
        }
        catch (JsonException e)
        {
            string field = (e.Path ?? "$").TrimStart('$').TrimStart('.');
            // In the user's words: "model.n_layer is 1.5; it must be a whole number", not .NET's type names.
            // The field's declared type (source-generated readers name the record, not the field, in the message).
            var kind = System.Text.RegularExpressions.Regex.Match(e.Message, @"converted to ([\w.`\[\]]+)");
            string? typeName = ModelConfigJson.FieldType(family.ConfigurationType, field)?.FullName ?? (kind.Success ? kind.Groups[1].Value.TrimEnd('.') : null);
            string? expected = typeName is null ? null : typeName switch
            {
                var k when k.Contains("Int32", StringComparison.Ordinal) => $"a whole number from {int.MinValue} to {int.MaxValue}",
                var k when k.Contains("Int64", StringComparison.Ordinal) => "a whole number",
                var k when k.Contains("Single", StringComparison.Ordinal) || k.Contains("Double", StringComparison.Ordinal) => "a number",
                var k when k.Contains("Boolean", StringComparison.Ordinal) => "true or false",
                var k when k.Contains("String", StringComparison.Ordinal) => "a string",
                _ => null,
            };
            string where = file ? source + ": " : "";
            if (field.Length > 0 && expected != null && obj[field] is var value)
                throw new InvalidDataException($"{where}{prefix}{field} is {value?.ToJsonString() ?? "null"}; it must be {expected}.", e);
            throw new InvalidDataException($"{source}: {(field.Length > 0 ? prefix + field + ": " : "")}{e.Message.Split(" Path:")[0]}", e);
        }
        catch (ArgumentException e) when (file)
        {
            throw new ArgumentException($"{source}: {e.Message}", e);
        }
    }

    /// <summary>True when <see cref="PlanMemory"/> knows the family of <paramref name="config"/>.</summary>
    public static bool CanPlanMemory(object config) => ModelFamilies.ForConfiguration(config)?.PlanMemory != null;

    /// <summary>Bytes a model of <paramref name="config"/> would take, with activations planned for <paramref name="batch"/> × <paramref name="time"/>.</summary>
    public static ModelMemory PlanMemory(object config, int batch = 0, int time = 0, bool activationCheckpointing = false) =>
        (ModelFamilies.ForConfiguration(config)?.PlanMemory
            ?? throw new NotSupportedException($"No causal language model family that plans memory for {config.GetType().Name}."))(config, batch, time, activationCheckpointing);

    /// <summary>Builds an untrained, fully trainable model from a parsed config (see <see cref="ParseConfig(JsonNode?, string)"/>), after checking its parameters fit in memory.</summary>
    public static ICausalLanguageModel Create(object config, WorkerPool? pool = null) => Create(config, ModelOptions.Default, pool);

    /// <summary>
    /// Builds an untrained model from a parsed config with roles and projections from
    /// <paramref name="options"/>, after checking its parameters (and gradients, unless the build is
    /// for <see cref="ModelOptions.Inference"/>) fit in memory.
    /// </summary>
    public static ICausalLanguageModel Create(object config, ModelOptions options, WorkerPool? pool = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var family = ModelFamilies.ForConfiguration(config)
            ?? throw new NotSupportedException($"No causal language model family for {config.GetType().Name}.");
        if (family.CreateCausalLanguageModel is null)
            throw new NotSupportedException(family.NotCausalReason ?? $"model_type \"{family.ModelType}\" has no causal language model.");
        if (family.PlanMemory != null)
        {
            var plan = family.PlanMemory(config, 0, 0, false);
            // Values are one block of the parameter size; gradients another (an upper bound: frozen
            // tensors get none, and an inference build has no gradient block at all).
            bool gradients = !ReferenceEquals(options.Trainable, ModelOptions.Inference.Trainable);
            MemoryBudget.EnsureFits((gradients ? 2 : 1) * plan.ParameterBytes, $"the {Describe(config)} model's parameters{(gradients ? " and gradients" : "")}",
                plan.VocabularyBytes * 2 > plan.ParameterBytes ? $"vocab_size ({VocabularySize(config):N0})" : "the number or width of the layers");
        }
        return family.CreateCausalLanguageModel(config, options, pool);
    }

    /// <summary>Builds an untrained model from a config.json tree; <paramref name="source"/> as in <see cref="ParseConfig(JsonNode?, string)"/>.</summary>
    public static ICausalLanguageModel Create(JsonNode config, string source, WorkerPool? pool = null) =>
        Create(config, source, ModelOptions.Default, pool);

    /// <summary>Builds an untrained model from a config.json tree with roles and projections from <paramref name="options"/>.</summary>
    public static ICausalLanguageModel Create(JsonNode config, string source, ModelOptions options, WorkerPool? pool = null) =>
        Create(ParseConfig(config, source), options, pool);

    /// <summary>Reads and validates <paramref name="directory"/>/config.json.</summary>
    public static object ReadConfig(string directory) => ReadConfig(directory, causalOnly: true);

    /// <summary>Reads and validates <paramref name="directory"/>/config.json; with <paramref name="causalOnly"/> false, of any registered family.</summary>
    public static object ReadConfig(string directory, bool causalOnly)
    {
        if (File.Exists(directory)) throw new ArgumentException($"{directory} is a file; a model directory holds config.json, model.safetensors and a tokenizer.");
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"Model directory {directory} does not exist.");
        // Every file the load may open is checked first: a FIFO among them would block forever.
        InputFiles.RequireRegularMembers(directory, "Model directory");
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
        return ParseConfig(node, config, causalOnly);
    }

    /// <summary>Opens a model path: config.json chooses the family, model.safetensors gives the weights (checked strictly); or any registered <see cref="ModelFormats"/> form.</summary>
    public static ICausalLanguageModel Load(string directory, WorkerPool? pool = null) => Load(directory, ModelOptions.Default, pool);

    /// <summary>
    /// Opens a model path built with <paramref name="options"/> (<see cref="ModelOptions.Inference"/> allocates no gradients).
    /// A registered <see cref="IModelFormat"/> that recognises the path opens it (GGUF files and `loom quantize`
    /// directories always; `loom compress lowrank` directories once Loom.Compression's LowRankModels.Register() ran);
    /// otherwise it is a Hugging Face directory, weights checked strictly.
    /// </summary>
    public static ICausalLanguageModel Load(string directory, ModelOptions options, WorkerPool? pool = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (ModelFormats.Find(directory) is { } format) return format.Load(directory, options, pool);
        var model = Create(ReadConfig(directory), options, pool);
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
    public static void LoadWeights(ILanguageModel model, string path)
    {
        using var file = SafetensorsFile.Open(path);
        string described = Describe(model.Configuration);
        var specs = model.Parameters.Specs;
        var expected = new HashSet<string>(specs.Select(s => s.Name), StringComparer.Ordinal);
        foreach (var spec in specs)
            if (!file.Tensors.ContainsKey(spec.Name) && !file.Tensors.ContainsKey("transformer." + spec.Name) && !model.MayBeAbsentFromWeights(spec.Name))
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
        || name.EndsWith(".rotary_emb.inv_freq", StringComparison.Ordinal) || name == "lm_head.weight"
        || name is "cls.predictions.decoder.weight" or "cls.predictions.decoder.bias";   // BERT's decoder, tied to the word embeddings and cls.predictions.bias

    private static long VocabularySize(object configuration) =>
        ModelFamilies.ForConfiguration(configuration)?.VocabularySize?.Invoke(configuration) ?? 0;

    /// <summary>Describes a config for messages: "gpt2 4×192, vocab 50257".</summary>
    public static string Describe(object configuration) =>
        ModelFamilies.ForConfiguration(configuration)?.Describe(configuration) ?? configuration.ToString() ?? "?";
}

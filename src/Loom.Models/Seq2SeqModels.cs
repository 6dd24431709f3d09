// Opens an encoder-decoder language model (T5) from a Hugging Face directory (config.json +
// model.safetensors) or builds one from a config, choosing the family by config.json's model_type in
// the registry (Families/ModelFamilies) — the seq2seq twin of CausalLanguageModels.
using System.Text.Json.Nodes;
using Loom.Core.Threading;
using Loom.Models.Families;
using Loom.Models.Formats;

namespace Loom.Models;

/// <summary>Family dispatch on model_type for encoder-decoder models.</summary>
public static class Seq2SeqModels
{
    /// <summary>The model types this build runs as encoder-decoder models.</summary>
    public static IReadOnlyList<string> Supported =>
        ModelFamilies.All.Where(f => f.CreateSeq2SeqModel != null).Select(f => f.ModelType).ToList();

    /// <summary>True when <paramref name="directory"/> holds a config.json whose model_type is an encoder-decoder family.</summary>
    public static bool IsSeq2SeqDirectory(string directory)
    {
        string path = Path.Combine(directory, "config.json");
        // Only a regular file is read here: a FIFO would block the probe forever (the causal load then names it).
        if (!Directory.Exists(directory) || Loom.Core.IO.InputFiles.KindOf(path) != Loom.Core.IO.InputFileKind.Regular) return false;
        try
        {
            return JsonNode.Parse(File.ReadAllText(path))?["model_type"]?.GetValue<string>() is { } type
                && ModelFamilies.Find(type)?.CreateSeq2SeqModel != null;
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException) { return false; }
    }

    /// <summary>Builds a model with zeroed (or, after InitializeWeights, fresh) parameters from a config record.</summary>
    public static ISeq2SeqModel Create(object configuration, ModelOptions? options = null, WorkerPool? pool = null)
    {
        var family = ModelFamilies.ForConfiguration(configuration)
            ?? throw new NotSupportedException($"{configuration.GetType().Name} is not a registered model family's config.");
        var create = family.CreateSeq2SeqModel
            ?? throw new NotSupportedException($"model_type \"{family.ModelType}\" is not an encoder-decoder family; supported: {string.Join(", ", Supported)}.");
        return create(configuration, options ?? ModelOptions.Default, pool);
    }

    /// <summary>Loads config.json and model.safetensors from <paramref name="directory"/>; errors name the file and field.</summary>
    public static ISeq2SeqModel Load(string directory, ModelOptions? options = null, WorkerPool? pool = null)
    {
        string configPath = Path.Combine(directory, "config.json"), weights = Path.Combine(directory, "model.safetensors");
        Loom.Core.IO.InputFiles.RequireRegularMembers(directory, "Model directory");   // a FIFO among them would block forever
        if (!File.Exists(configPath)) throw new FileNotFoundException($"{directory}: no config.json; an encoder-decoder model directory holds config.json and model.safetensors.", configPath);
        if (!File.Exists(weights)) throw new FileNotFoundException($"{directory}: no model.safetensors (pytorch_model.bin is not read; convert it with transformers' save_pretrained(safe_serialization=True)).", weights);
        JsonNode? node;
        try { node = JsonNode.Parse(File.ReadAllText(configPath)); }
        catch (System.Text.Json.JsonException e) { throw new InvalidDataException($"{configPath}: not valid JSON ({e.Message})."); }
        string type = node?["model_type"] is JsonValue v && v.TryGetValue<string>(out var t) ? t
            : throw new InvalidDataException($"{configPath}: no model_type; an encoder-decoder config.json names it (\"t5\").");
        var family = ModelFamilies.Find(type);
        if (family?.CreateSeq2SeqModel is null)
            throw new NotSupportedException($"{configPath}: model_type \"{type}\" is not an encoder-decoder family; supported: {string.Join(", ", Supported)}.");
        object config;
        try
        {
            config = family.ReadConfiguration(node!);
            family.Validate?.Invoke(config, "");
        }
        catch (Exception e) when (e is ArgumentException or System.Text.Json.JsonException)
        {
            throw new InvalidDataException($"{configPath}: {e.Message}", e);
        }
        var model = family.CreateSeq2SeqModel(config, options ?? ModelOptions.Default, pool);
        try
        {
            using var file = SafetensorsFile.Open(weights);
            model.LoadWeights(file);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }
}

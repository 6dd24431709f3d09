// Opens a causal language model from a Hugging Face style directory (config.json + model.safetensors)
// or builds one from a config, choosing the family by config.json's "model_type" in the registry
// (Families/ModelFamilies).
using System.Text.Json;
using System.Text.Json.Nodes;
using Loom.Core.Threading;
using Loom.Models.Families;
using Loom.Models.Formats;

namespace Loom.Models;

/// <summary>Family dispatch on model_type.</summary>
public static class CausalLanguageModels
{
    /// <summary>The model types this build can train and run as causal language models.</summary>
    public static IReadOnlyList<string> Supported =>
        ModelFamilies.All.Where(f => f.CreateCausalLanguageModel != null).Select(f => f.ModelType).ToList();

    /// <summary>Builds an untrained model from a config.json tree (model_type defaults to gpt2).</summary>
    public static ICausalLanguageModel Create(JsonNode config, string source, WorkerPool? pool = null) =>
        Create(config, source, ModelOptions.Default, pool);

    /// <summary>Builds an untrained model from a config.json tree with roles and projections from <paramref name="options"/>.</summary>
    public static ICausalLanguageModel Create(JsonNode config, string source, ModelOptions options, WorkerPool? pool = null)
    {
        string type = config["model_type"]?.GetValue<string>() ?? "gpt2";
        var family = ModelFamilies.Find(type)
            ?? throw new NotSupportedException($"{source}: model_type \"{type}\" is not supported; supported causal families: {string.Join(", ", Supported)}.");
        if (family.CreateCausalLanguageModel is null)
            throw new NotSupportedException($"{source}: {family.NotCausalReason ?? $"model_type \"{type}\" has no causal language model."}");
        try
        {
            return family.CreateCausalLanguageModel(family.ReadConfiguration(config), options, pool);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: {e.Message}", e);
        }
    }

    /// <summary>Opens a model directory: config.json chooses the family, model.safetensors gives the weights.</summary>
    public static ICausalLanguageModel Load(string directory, WorkerPool? pool = null) => Load(directory, ModelOptions.Default, pool);

    /// <summary>Opens a model directory built with <paramref name="options"/> (<see cref="ModelOptions.Inference"/> allocates no gradients).</summary>
    public static ICausalLanguageModel Load(string directory, ModelOptions options, WorkerPool? pool = null)
    {
        string config = Path.Combine(directory, "config.json"), weights = Path.Combine(directory, "model.safetensors");
        if (!File.Exists(config)) throw new FileNotFoundException($"{directory} has no config.json; a model directory holds config.json, model.safetensors and a tokenizer.", config);
        var node = JsonNode.Parse(File.ReadAllText(config)) ?? throw new InvalidDataException($"{config} is empty.");
        var model = Create(node, config, options, pool);
        try
        {
            using var f = SafetensorsFile.Open(weights);
            model.LoadWeights(f);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Describes a config for messages: "gpt2 4×192, vocab 50257".</summary>
    public static string Describe(object configuration) =>
        ModelFamilies.ForConfiguration(configuration)?.Describe(configuration) ?? configuration.ToString() ?? "?";
}

// Opens a causal language model from a Hugging Face style directory (config.json + model.safetensors)
// or builds one from a config, choosing the family by config.json's "model_type".
using System.Text.Json;
using System.Text.Json.Nodes;
using Loom.Core.Threading;
using Loom.Models.Formats;
using Loom.Models.Gpt2;
using Loom.Models.Llama;

namespace Loom.Models;

/// <summary>Family dispatch on model_type.</summary>
public static class CausalLanguageModels
{
    /// <summary>The model types this build can train and run.</summary>
    public static IReadOnlyList<string> Supported { get; } = ["gpt2", "llama"];

    /// <summary>Builds an untrained model from a config.json tree (model_type defaults to gpt2).</summary>
    public static ICausalLanguageModel Create(JsonNode config, string source, WorkerPool? pool = null)
    {
        string type = config["model_type"]?.GetValue<string>() ?? "gpt2";
        try
        {
            return type switch
            {
                "gpt2" => new Gpt2Model(config.Deserialize<Gpt2Config>() ?? new Gpt2Config(), pool),
                "llama" => new LlamaModel(config.Deserialize<LlamaConfig>() ?? new LlamaConfig(), pool),
                "bert" => throw new NotSupportedException($"{source}: model_type \"bert\" is an encoder, not a causal language model; use Loom.Models.Bert.BertModel (masked LM or classification)."),
                _ => throw new NotSupportedException($"{source}: model_type \"{type}\" is not supported; supported causal families: {string.Join(", ", Supported)}."),
            };
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: {e.Message}", e);
        }
    }

    /// <summary>Opens a model directory: config.json chooses the family, model.safetensors gives the weights.</summary>
    public static ICausalLanguageModel Load(string directory, WorkerPool? pool = null)
    {
        string config = Path.Combine(directory, "config.json"), weights = Path.Combine(directory, "model.safetensors");
        if (!File.Exists(config)) throw new FileNotFoundException($"{directory} has no config.json; a model directory holds config.json, model.safetensors and a tokenizer.", config);
        var node = JsonNode.Parse(File.ReadAllText(config)) ?? throw new InvalidDataException($"{config} is empty.");
        var model = Create(node, config, pool);
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
    public static string Describe(object configuration) => configuration switch
    {
        Gpt2Config g => $"gpt2 {g.Layers} layers × {g.Embedding}, vocab {g.VocabSize}",
        LlamaConfig l => $"llama {l.Layers} layers × {l.HiddenSize}, vocab {l.VocabSize}",
        _ => configuration.ToString() ?? "?",
    };
}

// BERT's configuration with Hugging Face's config.json field names (BertConfig).
using Loom.Core.IO;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Loom.Models.Bert;

/// <summary>BERT hyper-parameters; defaults are bert-base.</summary>
public sealed record BertConfig
{
    [JsonPropertyName("model_type")] public string ModelType { get; init; } = "bert";
    [JsonPropertyName("vocab_size")] public int VocabSize { get; init; } = 30522;
    [JsonPropertyName("hidden_size")] public int HiddenSize { get; init; } = 768;
    [JsonPropertyName("num_hidden_layers")] public int Layers { get; init; } = 12;
    [JsonPropertyName("num_attention_heads")] public int Heads { get; init; } = 12;
    [JsonPropertyName("intermediate_size")] public int IntermediateSize { get; init; } = 3072;
    [JsonPropertyName("max_position_embeddings")] public int MaxPositions { get; init; } = 512;
    [JsonPropertyName("type_vocab_size")] public int TypeVocabSize { get; init; } = 2;
    [JsonPropertyName("layer_norm_eps")] public float LayerNormEpsilon { get; init; } = 1e-12f;
    [JsonPropertyName("hidden_act")] public string HiddenAct { get; init; } = "gelu";

    public void Validate()
    {
        if (VocabSize <= 0 || HiddenSize <= 0 || Layers <= 0 || Heads <= 0 || IntermediateSize <= 0 || MaxPositions <= 0 || TypeVocabSize <= 0)
            throw new ArgumentException($"BERT config needs positive sizes; got {this}.");
        if (HiddenSize % Heads != 0) throw new ArgumentException($"hidden_size ({HiddenSize}) must be divisible by num_attention_heads ({Heads}).");
        if (HiddenAct != "gelu") throw new NotSupportedException($"hidden_act \"{HiddenAct}\" is not supported; Loom's BERT uses the exact GELU (\"gelu\").");
    }

    public static BertConfig Parse(string json) => JsonSerializer.Deserialize<BertConfig>(json)!;

    public void Save(string path) => DurableFile.WriteAllText(path, JsonSerializer.Serialize(this, new JsonSerializerOptions { WriteIndented = true }));
}

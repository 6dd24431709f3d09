// BERT's configuration with Hugging Face's config.json field names (BertConfig).
using Loom.Core.IO;
using Loom.Core.Validation;
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

    /// <summary>Throws <see cref="ArgumentException"/> naming the field (<paramref name="prefix"/> + its config.json name) and its value.</summary>
    public void Validate(string prefix = "")
    {
        Setting.AtLeast(prefix + "vocab_size", VocabSize, 1);
        Setting.AtLeast(prefix + "hidden_size", HiddenSize, 1);
        Setting.AtLeast(prefix + "num_hidden_layers", Layers, 1);
        Setting.AtLeast(prefix + "num_attention_heads", Heads, 1);
        Setting.AtLeast(prefix + "intermediate_size", IntermediateSize, 1);
        Setting.AtLeast(prefix + "max_position_embeddings", MaxPositions, 1);
        Setting.AtLeast(prefix + "type_vocab_size", TypeVocabSize, 1);
        if (HiddenSize % Heads != 0)
            throw Setting.Error(prefix + "hidden_size", HiddenSize, $"divisible by {prefix}num_attention_heads ({Heads})");
        Setting.Positive(prefix + "layer_norm_eps", LayerNormEpsilon);
        if (HiddenAct != "gelu") throw new NotSupportedException($"{prefix}hidden_act \"{HiddenAct}\" is not supported; Loom's BERT uses the exact GELU (\"gelu\").");
    }

    public static BertConfig Parse(string json) => JsonSerializer.Deserialize<BertConfig>(json)!;

    public void Save(string path) => DurableFile.WriteAllText(path, JsonSerializer.Serialize(this, new JsonSerializerOptions { WriteIndented = true }));
}

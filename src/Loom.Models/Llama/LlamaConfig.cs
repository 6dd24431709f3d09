// Llama's configuration with Hugging Face's config.json field names (LlamaConfig).
using Loom.Core.IO;
using System.Text.Json;
using System.Text.Json.Serialization;
using Loom.Core.Kernels;

namespace Loom.Models.Llama;

/// <summary>rope_scaling as in config.json ("type" or "rope_type", and "factor").</summary>
public sealed record LlamaRopeScaling
{
    [JsonPropertyName("type")] public string? Type { get; init; }
    [JsonPropertyName("rope_type")] public string? RopeType { get; init; }
    [JsonPropertyName("factor")] public float Factor { get; init; } = 1f;

    public RopeScaling ToKernel() => new(Type ?? RopeType ?? "none", Factor);
}

/// <summary>Llama hyper-parameters.</summary>
public sealed record LlamaConfig
{
    [JsonPropertyName("model_type")] public string ModelType { get; init; } = "llama";
    [JsonPropertyName("vocab_size")] public int VocabSize { get; init; } = 32000;
    [JsonPropertyName("hidden_size")] public int HiddenSize { get; init; } = 4096;
    [JsonPropertyName("intermediate_size")] public int IntermediateSize { get; init; } = 11008;
    [JsonPropertyName("num_hidden_layers")] public int Layers { get; init; } = 32;
    [JsonPropertyName("num_attention_heads")] public int Heads { get; init; } = 32;
    [JsonPropertyName("num_key_value_heads")] public int? KeyValueHeads { get; init; }
    [JsonPropertyName("max_position_embeddings")] public int MaxPositions { get; init; } = 2048;
    [JsonPropertyName("rms_norm_eps")] public float RmsNormEpsilon { get; init; } = 1e-6f;
    [JsonPropertyName("rope_theta")] public float RopeTheta { get; init; } = 10000f;
    [JsonPropertyName("rope_scaling")] public LlamaRopeScaling? RopeScaling { get; init; }
    [JsonPropertyName("tie_word_embeddings")] public bool TieWordEmbeddings { get; init; }

    [JsonIgnore] public int KvHeads => KeyValueHeads ?? Heads;
    [JsonIgnore] public int HeadDim => HiddenSize / Heads;

    public void Validate()
    {
        if (VocabSize <= 0 || HiddenSize <= 0 || IntermediateSize <= 0 || Layers <= 0 || Heads <= 0 || KvHeads <= 0 || MaxPositions <= 0)
            throw new ArgumentException($"Llama config needs positive sizes; got {this}.");
        if (HiddenSize % Heads != 0) throw new ArgumentException($"hidden_size ({HiddenSize}) must be divisible by num_attention_heads ({Heads}).");
        if (Heads % KvHeads != 0) throw new ArgumentException($"num_attention_heads ({Heads}) must be a multiple of num_key_value_heads ({KvHeads}).");
        if (TieWordEmbeddings) throw new NotSupportedException("Llama with tied embeddings is not supported yet.");
    }

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    public static LlamaConfig Parse(string json) => JsonSerializer.Deserialize<LlamaConfig>(json)!;

    public static LlamaConfig Load(string path)
    {
        var c = JsonSerializer.Deserialize<LlamaConfig>(File.ReadAllText(path)) ?? throw new InvalidDataException($"{path}: empty config.");
        if (c.ModelType != "llama") throw new InvalidDataException($"{path}: model_type is \"{c.ModelType}\", not \"llama\".");
        c.Validate();
        return c;
    }

    public void Save(string path) => DurableFile.WriteAllText(path, JsonSerializer.Serialize(this, Json));
}

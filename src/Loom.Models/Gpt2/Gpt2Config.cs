// GPT-2's configuration with Hugging Face's config.json field names (GPT2Config).
using Loom.Core.IO;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Loom.Models.Gpt2;

/// <summary>GPT-2 hyper-parameters; defaults are GPT-2 124M.</summary>
public sealed record Gpt2Config
{
    [JsonPropertyName("model_type")] public string ModelType { get; init; } = "gpt2";
    [JsonPropertyName("vocab_size")] public int VocabSize { get; init; } = 50257;
    [JsonPropertyName("n_positions")] public int MaxPositions { get; init; } = 1024;
    [JsonPropertyName("n_embd")] public int Embedding { get; init; } = 768;
    [JsonPropertyName("n_layer")] public int Layers { get; init; } = 12;
    [JsonPropertyName("n_head")] public int Heads { get; init; } = 12;
    [JsonPropertyName("layer_norm_epsilon")] public float LayerNormEpsilon { get; init; } = 1e-5f;
    [JsonPropertyName("activation_function")] public string Activation { get; init; } = "gelu_new";
    [JsonPropertyName("tie_word_embeddings")] public bool TieWordEmbeddings { get; init; } = true;

    /// <summary>Throws with the offending field when the configuration cannot be built.</summary>
    public void Validate()
    {
        if (VocabSize <= 0 || MaxPositions <= 0 || Embedding <= 0 || Layers <= 0 || Heads <= 0)
            throw new ArgumentException($"GPT-2 config needs positive vocab_size, n_positions, n_embd, n_layer, n_head; got {this}.");
        if (Embedding % Heads != 0) throw new ArgumentException($"n_embd ({Embedding}) must be divisible by n_head ({Heads}).");
        if (Activation is not ("gelu_new" or "gelu_pytorch_tanh"))
            throw new NotSupportedException($"activation_function \"{Activation}\" is not supported; Loom's GPT-2 uses the tanh GELU (gelu_new).");
        if (!TieWordEmbeddings) throw new NotSupportedException("GPT-2 with untied embeddings is not supported.");
    }

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    /// <summary>Reads a Hugging Face config.json.</summary>
    public static Gpt2Config Load(string path)
    {
        var c = JsonSerializer.Deserialize<Gpt2Config>(File.ReadAllText(path)) ?? throw new InvalidDataException($"{path}: empty config.");
        if (c.ModelType != "gpt2") throw new InvalidDataException($"{path}: model_type is \"{c.ModelType}\", not \"gpt2\".");
        c.Validate();
        return c;
    }

    /// <summary>Writes config.json.</summary>
    public void Save(string path) => DurableFile.WriteAllText(path, JsonSerializer.Serialize(this, Json));

    /// <summary>Parses the JSON text of a config.</summary>
    public static Gpt2Config Parse(string json) => JsonSerializer.Deserialize<Gpt2Config>(json)!;
}
